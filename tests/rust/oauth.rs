//! mcpgate as the OAuth authorization server of its proxy URLs (issue 15, item 1), against
//! the real API, proxy, Postgres, Redis and demo upstream: the official Python 2.x and
//! TypeScript 2.x SDK clients connect with OAuth and no pre-shared token (discovery,
//! registration, the consent page answered over HTTP with the dashboard session, PKCE,
//! `state` and `iss`), are governed like any grant, refresh, and are cut off; and the flow's
//! refusals over plain HTTP (`oauth/flow.rs`); a client revoking its own tokens (RFC 7009,
//! `oauth/revocation.rs`).

use std::time::{Duration, Instant};

use mcpgate_demo::DemoSettings;
use mcpgate_e2e::api::Server;
use mcpgate_e2e::raw::{initialize_body, post};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[path = "oauth/agent.rs"]
mod agent;
#[path = "oauth/flow.rs"]
mod flow;
#[path = "oauth/member.rs"]
mod member;
#[path = "oauth/revocation.rs"]
mod revocation;

use agent::{Agent, OAuthSdk};
use member::Member;

const DENIED: &str = "[POLICY DENIED] ";
const DELETE_REASON: &str = "Agents may not delete namespaces; ask a human.";
const UPSTREAM_KEY: (&str, &str) = ("x-upstream-key", "upstream-secret");
const ALLOW: &[(&str, &str)] = &[
    ("decision", "allow"),
    ("policy", "server"),
    ("expires", "30"),
];

fn policy() -> Value {
    json!({"version": "1", "default": "deny",
        "tools": {
            "k8s_get_namespaces": {},
            "k8s_delete_ns": {"action": "deny", "reason": DELETE_REASON}}})
}

/// A tenant with the demo server registered twice (A, governed by [`policy`], and B), and
/// its owner signed in to the dashboard.
struct World<'a> {
    member: Member<'a>,
    server: Server,
    other: Server,
    _demo: mcpgate_demo::DemoHandle,
}

async fn world(app: &mcpgate_testkit::TestApp) -> World<'_> {
    let demo = mcpgate_demo::spawn(DemoSettings {
        require_header: Some((UPSTREAM_KEY.0.into(), UPSTREAM_KEY.1.into())),
        ..DemoSettings::default()
    })
    .await;
    let member = Member::sign_up(app).await;
    let headers = json!({UPSTREAM_KEY.0: UPSTREAM_KEY.1});
    let server = member
        .tenant
        .register("k8s", &demo.url(), headers.clone())
        .await;
    let other = member.tenant.register("k8s-b", &demo.url(), headers).await;
    member.tenant.put_policy(&server, policy()).await;
    World {
        member,
        server,
        other,
        _demo: demo,
    }
}

/// An `initialize` with `token` at `url`: the status.
async fn status_with(url: &str, token: &str) -> StatusCode {
    post(&reqwest::Client::new(), url, token, None, initialize_body())
        .send()
        .await
        .expect("the proxy answers")
        .status()
}

/// How long until `url` refuses `token` (polled every 20 ms, for at most 5 s).
async fn time_until_refused(url: &str, token: &str) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if status_with(url, token).await == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the token still works 5 s later");
}

/// The tenant's grant that the client `name` became.
async fn oauth_grant(member: &Member<'_>, sdk: OAuthSdk) -> Value {
    let (status, body) = member
        .tenant
        .0
        .request(reqwest::Method::GET, "/api/v1/grants", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let name = format!("OAuth: {}", sdk.client_name());
    body["grants"]
        .as_array()
        .expect("a grant list")
        .iter()
        .find(|grant| grant["name"] == name.as_str())
        .unwrap_or_else(|| panic!("no grant {name:?} in {body}"))
        .clone()
}

/// How the journey ends the connection.
#[derive(Debug, Clone, Copy)]
enum CutOff {
    /// The rotated-away refresh token is presented again: the family is revoked.
    RefreshTokenReused,
    /// The tenant revokes the grant through the API.
    TenantRevokes,
}

async fn journey(sdk: OAuthSdk, cut_off: CutOff) {
    let app = mcpgate_testkit::spawn_app().await;
    let world = world(&app).await;
    let member = &world.member;

    // Precondition: the proxy URL answers a bare request as a protected resource.
    let bare = reqwest::Client::new()
        .post(&world.server.proxy_url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(initialize_body())
        .send()
        .await
        .expect("the proxy answers");
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    let challenge = bare.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with(&format!(
            "Bearer resource_metadata=\"{}\"",
            app.proxy_url(&format!(
                "/.well-known/oauth-protected-resource/mcp/{}",
                world.server.id
            ))
        )),
        "{challenge}"
    );

    let mut agent = Agent::start(sdk, &world.server.proxy_url);
    let (init, authorizations) = agent.connect(member, ALLOW).await;
    assert_eq!(authorizations, 1, "one consent: {init}");

    // Governed like any grant: the server's policy applies.
    let listed = agent.step(json!({"op": "list"})).await;
    let tools = listed["tools"].as_array().expect("a tool list");
    assert!(tools.iter().any(|t| t == "k8s_get_namespaces"), "{listed}");
    let allowed = agent
        .step(json!({"op": "call", "tool": "k8s_get_namespaces", "arguments": {"context": "prod"}}))
        .await;
    assert_eq!(allowed["results"][0]["isError"], false, "{allowed}");
    let denied = agent
        .step(json!({"op": "call", "tool": "k8s_delete_ns", "arguments": {"context": "prod", "name": "x"}}))
        .await;
    let text = denied["results"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(DENIED) && text.contains(DELETE_REASON),
        "{denied}"
    );

    // The connection is a grant of this one server, listed like any other.
    let grant = oauth_grant(member, sdk).await;
    let grant_id = grant["id"].as_str().expect("the grant id").to_owned();
    assert_eq!(grant["server_ids"], json!([world.server.id]), "{grant}");
    assert!(
        grant["revoked_at"].is_null() && !grant["expires_at"].is_null(),
        "{grant}"
    );

    // Its access token is for server A's proxy URL only.
    let (access, refresh, client_id) = agent.tokens().await;
    let refresh = refresh.expect("a refresh token");
    assert_eq!(
        status_with(&world.server.proxy_url, &access).await,
        StatusCode::OK
    );
    assert_eq!(
        status_with(&world.other.proxy_url, &access).await,
        StatusCode::UNAUTHORIZED,
        "a token for server A is refused on server B"
    );

    // Refresh: the SDK gets a new access token and a rotated refresh token.
    assert_eq!(agent.step(json!({"op": "expire"})).await["op"], "expire");
    let again = agent
        .step(json!({"op": "call", "tool": "k8s_get_namespaces", "arguments": {"context": "prod"}}))
        .await;
    assert_eq!(again["results"][0]["isError"], false, "{again}");
    let (access2, refresh2, _) = agent.tokens().await;
    let refresh2 = refresh2.expect("a rotated refresh token");
    assert_ne!(refresh2, refresh, "the refresh token rotates");
    assert_ne!(access2, access);

    let url = world.server.proxy_url.clone();
    let elapsed = match cut_off {
        CutOff::RefreshTokenReused => {
            let reuse = reqwest::Client::new()
                .post(app.api_url("/oauth/token"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", client_id.as_str()),
                ])
                .send()
                .await
                .expect("the token endpoint answers");
            assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
            let body: Value = reuse.json().await.unwrap();
            assert_eq!(body["error"], "invalid_grant", "{body}");
            let elapsed = time_until_refused(&url, &access2).await;
            let grant = oauth_grant(member, sdk).await;
            assert!(
                !grant["revoked_at"].is_null(),
                "reuse revoked the family: {grant}"
            );
            elapsed
        }
        CutOff::TenantRevokes => {
            let (status, body) = member
                .tenant
                .0
                .request(
                    reqwest::Method::DELETE,
                    &format!("/api/v1/grants/{grant_id}"),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            time_until_refused(&url, &access2).await
        }
    };
    eprintln!("{sdk:?} {cut_off:?}: refused {elapsed:?} after");
    assert!(
        elapsed < Duration::from_secs(1),
        "cut off within a second, took {elapsed:?}"
    );

    // The SDK is sent back to authorization; the test refuses it and the driver ends.
    agent
        .send(json!({"op": "call", "tool": "k8s_get_namespaces", "arguments": {"context": "prod"}}))
        .await;
    let line = agent.next().await;
    assert_eq!(line["op"], "authorize", "the SDK must ask again: {line}");
    agent.send(json!({"refuse": true})).await;

    // Consent, issue, refresh and the revocation are audited with the grant's calls.
    // The API writes its rows at once; the proxy's writer queues the calls' rows and
    // writes them in batches, so wait (bounded) until they are there.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = member
            .tenant
            .audit_events(&format!("grant={grant_id}"))
            .await;
        let has_call = events.iter().any(|e| e["method"] == "tools/call");
        if has_call || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let methods: Vec<&str> = events.iter().filter_map(|e| e["method"].as_str()).collect();
    for method in ["oauth/token", "oauth/refresh", "tools/call"] {
        assert!(methods.contains(&method), "{method} in {methods:?}");
    }
    if matches!(cut_off, CutOff::RefreshTokenReused) {
        assert!(methods.contains(&"oauth/revoke"), "{methods:?}");
    }
    let consents = member
        .tenant
        .audit_events(&format!("server={}", world.server.id))
        .await;
    assert!(
        consents.iter().any(|e| e["method"] == "oauth/consent"
            && e["actor"].as_str().is_some_and(|a| a.starts_with("user:"))),
        "{consents:?}"
    );
    let everything = serde_json::to_string(&events).unwrap();
    for secret in [&access, &access2, &refresh, &refresh2] {
        assert!(
            !everything.contains(secret.as_str()),
            "no token in the audit log"
        );
    }
}

#[tokio::test]
async fn the_python_sdk_connects_with_oauth_is_governed_and_a_reused_refresh_token_ends_it() {
    journey(OAuthSdk::Python2, CutOff::RefreshTokenReused).await;
}

#[tokio::test]
async fn the_typescript_sdk_connects_with_oauth_is_governed_and_revoking_it_cuts_it_off() {
    journey(OAuthSdk::TypeScript2, CutOff::TenantRevokes).await;
}
