//! Token revocation (RFC 7009) over plain HTTP: a client hands back its refresh token or
//! its access token and its agent is cut off within a second; a token of another client,
//! an unknown one or a static grant token answers `200` and changes nothing; all audited.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::flow::{authorize_url, exchange, param, register, resource, token_request};
use super::flow::{REDIRECT, VERIFIER};
use super::member::Member;
use super::{status_with, time_until_refused, world};
use mcpgate_e2e::api::Server;

/// A client connected to `server`: its id and first tokens.
struct Connected {
    client_id: String,
    access: String,
    refresh: String,
}

async fn connect(member: &Member<'_>, server: &Server, name: &str) -> Connected {
    let app = member.app;
    let client_id = register(app, name).await;
    let callback = member
        .allow(&authorize_url(
            app,
            &client_id,
            REDIRECT,
            &resource(&server.proxy_url),
        ))
        .await;
    let code = param(&callback, "code").expect("a code");
    let (status, tokens) = exchange(app, &code, &client_id, VERIFIER, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let token = |name: &str| {
        tokens[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {tokens}"))
            .to_owned()
    };
    Connected {
        access: token("access_token"),
        refresh: token("refresh_token"),
        client_id,
    }
}

/// `POST /oauth/revoke` with `form`: the status and the body as text.
async fn revoke(app: &mcpgate_testkit::TestApp, form: &[(&str, &str)]) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(app.api_url("/oauth/revoke"))
        .form(form)
        .send()
        .await
        .expect("the revocation endpoint answers");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

/// The tenant's grant named `OAuth: {name}`.
async fn grant_named(member: &Member<'_>, name: &str) -> Value {
    let (status, body) = member
        .tenant
        .0
        .request(reqwest::Method::GET, "/api/v1/grants", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let name = format!("OAuth: {name}");
    body["grants"]
        .as_array()
        .expect("a grant list")
        .iter()
        .find(|grant| grant["name"] == name.as_str())
        .unwrap_or_else(|| panic!("no grant {name:?} in {body}"))
        .clone()
}

/// The grant's `oauth/revoke` audit rows, waited for (bounded) until `count` are there.
async fn revocations(member: &Member<'_>, grant: &Value, count: usize) -> Vec<Value> {
    let id = grant["id"].as_str().expect("the grant id");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows: Vec<Value> = member
            .tenant
            .audit_events(&format!("grant={id}"))
            .await
            .into_iter()
            .filter(|event| event["method"] == "oauth/revoke")
            .collect();
        if rows.len() >= count || std::time::Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn refresh_error(app: &mcpgate_testkit::TestApp, connected: &Connected) -> Option<String> {
    let (status, body) = token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &connected.refresh),
            ("client_id", &connected.client_id),
        ],
    )
    .await;
    (status != StatusCode::OK).then(|| body["error"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_client_revoking_its_refresh_token_cuts_its_agent_off_and_another_client_s_revocation_changes_nothing(
) {
    let app = mcpgate_testkit::spawn_app().await;
    let world = world(&app).await;
    let member = &world.member;
    let url = &world.server.proxy_url;
    let metadata: Value = reqwest::get(app.api_url("/.well-known/oauth-authorization-server"))
        .await
        .expect("the metadata")
        .json()
        .await
        .expect("JSON metadata");
    assert_eq!(
        metadata["revocation_endpoint"],
        app.api_url("/oauth/revoke"),
        "{metadata}"
    );

    let alice = connect(member, &world.server, "Alice Agent").await;
    let mallory = connect(member, &world.server, "Mallory Agent").await;
    assert_eq!(status_with(url, &alice.access).await, StatusCode::OK);
    assert_eq!(status_with(url, &mallory.access).await, StatusCode::OK);

    // Malformed requests are refused as the token endpoint refuses them.
    for form in [
        vec![("client_id", alice.client_id.as_str())],
        vec![("token", alice.refresh.as_str())],
    ] {
        let (status, body) = revoke(&app, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        assert_eq!(body["error"], "invalid_request", "{body}");
    }

    // Another client's token: 200 (§2.2), and Alice's connection lives on.
    let (status, _) = revoke(
        &app,
        &[
            ("token", alice.refresh.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", mallory.client_id.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = revoke(
        &app,
        &[
            ("token", alice.access.as_str()),
            ("client_id", mallory.client_id.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // An unknown token and a static grant token: 200 and nothing happens either.
    let fixed = member.tenant.grant("static", &world.server).await;
    for token in ["not-a-token-of-ours", fixed.token.as_str()] {
        let (status, _) = revoke(
            &app,
            &[("token", token), ("client_id", alice.client_id.as_str())],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{token}");
    }
    assert_eq!(status_with(url, &fixed.token).await, StatusCode::OK);
    let refused = revocations(member, &grant_named(member, "Alice Agent").await, 2).await;
    assert_eq!(refused.len(), 2, "both refusals audited: {refused:?}");
    for row in &refused {
        assert_eq!(row["decision"], "deny", "{row}");
        assert_eq!(
            row["actor"],
            format!("oauth:{}", mallory.client_id),
            "{row}"
        );
    }
    assert_eq!(
        status_with(url, &alice.access).await,
        StatusCode::OK,
        "Alice is still connected"
    );
    assert!(grant_named(member, "Alice Agent").await["revoked_at"].is_null());

    // Alice revokes her refresh token: her access token ends within a second, and the
    // refresh token is refused from then on.
    let (status, body) = revoke(
        &app,
        &[
            ("token", alice.refresh.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", alice.client_id.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let elapsed = time_until_refused(url, &alice.access).await;
    eprintln!("revoking the refresh token: access refused {elapsed:?} after");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_eq!(
        refresh_error(&app, &alice).await.as_deref(),
        Some("invalid_grant")
    );
    let grant = grant_named(member, "Alice Agent").await;
    assert!(!grant["revoked_at"].is_null(), "{grant}");
    let rows = revocations(member, &grant, 3).await;
    let allowed: Vec<&Value> = rows.iter().filter(|r| r["decision"] == "allow").collect();
    assert_eq!(allowed.len(), 1, "the revocation audited once: {rows:?}");
    assert_eq!(allowed[0]["actor"], format!("oauth:{}", alice.client_id));

    // Revoking again answers 200 and audits nothing new.
    let (status, _) = revoke(
        &app,
        &[
            ("token", alice.refresh.as_str()),
            ("client_id", alice.client_id.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Mallory was never affected by any of it.
    assert_eq!(status_with(url, &mallory.access).await, StatusCode::OK);
    assert_eq!(refresh_error(&app, &mallory).await, None);
    let after = revocations(member, &grant, 3).await;
    assert_eq!(after.len(), rows.len(), "{after:?}");
}

#[tokio::test]
async fn a_client_revoking_its_access_token_ends_the_whole_family() {
    let app = mcpgate_testkit::spawn_app().await;
    let world = world(&app).await;
    let member = &world.member;
    let url = &world.server.proxy_url;
    let agent = connect(member, &world.server, "Access Agent").await;
    assert_eq!(status_with(url, &agent.access).await, StatusCode::OK);

    let (status, body) = revoke(
        &app,
        &[
            ("token", agent.access.as_str()),
            ("token_type_hint", "access_token"),
            ("client_id", agent.client_id.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let elapsed = time_until_refused(url, &agent.access).await;
    eprintln!("revoking the access token: refused {elapsed:?} after");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    // The refresh token of the same family is refused too: nothing of it is left.
    assert_eq!(
        refresh_error(&app, &agent).await.as_deref(),
        Some("invalid_grant")
    );
    let grant = grant_named(member, "Access Agent").await;
    assert!(!grant["revoked_at"].is_null(), "{grant}");
    let rows = revocations(member, &grant, 1).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["decision"], "allow", "{rows:?}");
    assert_eq!(rows[0]["server_id"], world.server.id.as_str(), "{rows:?}");
}
