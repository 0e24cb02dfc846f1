//! Upstream OAuth in real life (issue 15, item 2): an upstream that refuses its token
//! before the token is due, an authorization server that goes down and comes back, and
//! the API renewing tokens ahead of their expiry with no call asking for it. Real parts
//! only: `node-oidc-provider`, the Python SDK 2.x `MCPServer` checking every token, two
//! proxy replicas, the Python SDK 2.x client as the agent.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mcpgate_e2e::api::{sign_up, Server, Tenant};
use mcpgate_e2e::drivers::{Driver, Sdk};
use mcpgate_e2e::oauth_upstream::{AuthorizationServer, ProtectedServer};
use mcpgate_testkit::{spawn_app_with, TestApp, TestAppOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::options;

/// A server connected through the whole OAuth journey, with a policy letting all in.
struct Connected {
    server: Server,
    oauth_path: String,
}

async fn connect(
    app: &TestApp,
    tenant: &Tenant<'_>,
    authorization: &AuthorizationServer,
    upstream: &ProtectedServer,
) -> Connected {
    let (status, registered) = tenant
        .0
        .post(
            "/api/v1/servers",
            json!({"name": "notes", "url": upstream.url()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let id = registered["id"].as_str().expect("a server id").to_owned();
    let oauth_path = format!("/api/v1/servers/{id}/oauth");
    let (status, started) = tenant
        .0
        .post(&format!("{oauth_path}/connect"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let authorization_url = started["authorization_url"].as_str().expect("a URL");
    let back = authorization.consent(authorization_url, "ada").await;
    let back = reqwest::Url::parse(&back).expect("a redirect URL");
    let callback = app.api_url(&format!("{}?{}", back.path(), back.query().unwrap()));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(&callback).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let (_, connection) = tenant.0.get(&oauth_path).await;
    assert_eq!(connection["status"], "connected", "{connection}");
    let server = Server {
        id,
        proxy_url: registered["proxy_url"].as_str().unwrap().to_owned(),
        tools: vec!["read_notes".into(), "delete_note".into()],
    };
    tenant
        .put_policy(&server, json!({"version": "1", "default": "allow"}))
        .await;
    Connected { server, oauth_path }
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a time, not {value}"))
        .parse()
        .expect("an RFC 3339 time")
}

/// Sleeps until `at` (plus a margin for the clocks of the child processes).
async fn until(at: DateTime<Utc>) {
    let left = (at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(1500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_the_upstream_refuses_early_is_refreshed_once_for_racing_replicas_and_the_calls_succeed(
) {
    let app = spawn_app_with(options()).await;
    let replica = app.spawn_proxy_replica(options()).await;
    // Ten minutes: nothing is due during the test, every refresh is the 401's.
    let authorization = AuthorizationServer::start(600).await;
    let upstream = ProtectedServer::start(&authorization.issuer()).await;
    let tenant = sign_up(&app).await;
    let Connected { server, oauth_path } = connect(&app, &tenant, &authorization, &upstream).await;
    let (_, connected) = tenant.0.get(&oauth_path).await;
    let grant = tenant.grant("agent", &server).await;

    let mut first = Driver::start(Sdk::Python2, &server.proxy_url, &grant.token).await;
    let second_url = replica.url(&format!("/mcp/{}/", server.id));
    let mut second = Driver::start(Sdk::Python2, &second_url, &grant.token).await;
    let (on_first, on_second) = tokio::join!(
        first.call("read_notes", json!({"topic": "before"})),
        second.call("read_notes", json!({"topic": "before"})),
    );
    assert_eq!(on_first.text(), "notes about before", "{:?}", on_first.0);
    assert_eq!(on_second.text(), "notes about before", "{:?}", on_second.0);
    assert_eq!(authorization.stats().await.refresh_grants, 0);

    // The upstream revokes the token it was taking, long before its expiry.
    assert!(upstream.refuse_current_tokens().await >= 1);
    let refused_before = upstream.token_stats().await.refused;
    let (on_first, on_second) = tokio::join!(
        first.call("read_notes", json!({"topic": "replica one"})),
        second.call("read_notes", json!({"topic": "replica two"})),
    );
    assert_eq!(
        on_first.text(),
        "notes about replica one",
        "{:?}",
        on_first.0
    );
    assert_eq!(
        on_second.text(),
        "notes about replica two",
        "{:?}",
        on_second.0
    );
    assert_eq!(
        authorization.stats().await.refresh_grants,
        1,
        "the two replicas' 401s made one refresh"
    );
    // Each replica's message was refused at most once, then sent once more.
    let refusals = upstream.token_stats().await.refused - refused_before;
    assert!((1..=2).contains(&refusals), "{refusals} refusals");
    eprintln!("early 401: {refusals} refusal(s) by the upstream, 1 refresh, both calls answered");
    let (_, refreshed) = tenant.0.get(&oauth_path).await;
    assert_eq!(refreshed["status"], "connected", "{refreshed}");
    assert!(refreshed["refreshed_at"].is_string(), "{refreshed}");
    assert_ne!(
        refreshed["access_expires_at"],
        connected["access_expires_at"]
    );

    // Refused early again, and now the authorization server refuses the refresh too:
    // one refresh attempt, no resend loop, the server needs reconnecting.
    assert!(authorization.revoke_everything().await >= 1);
    assert!(upstream.refuse_current_tokens().await >= 1);
    let refused_before = upstream.token_stats().await.refused;
    let answer = first.call("read_notes", json!({"topic": "after"})).await;
    let error = answer.error().expect("a JSON-RPC error, not a result");
    let message = error["message"].as_str().expect("an error message");
    assert!(
        message.contains("\"notes\"") && message.contains("needs reconnecting"),
        "{message}"
    );
    assert!(message.contains("invalid_grant"), "{message}");
    assert_eq!(
        upstream.token_stats().await.refused - refused_before,
        1,
        "the refused message was not sent again"
    );
    let stats = authorization.stats().await;
    assert_eq!(
        (stats.refresh_grants, stats.refused_refreshes),
        (1, 1),
        "{stats:?}"
    );
    let (_, broken) = tenant.0.get(&oauth_path).await;
    assert_eq!(broken["status"], "needs_reconnect", "{broken}");

    let events = tenant
        .audit_events(&format!("server={}&limit=200", server.id))
        .await;
    let refreshed: Vec<&Value> = events
        .iter()
        .filter(|e| e["method"] == "upstream_oauth/refreshed")
        .collect();
    assert_eq!(refreshed.len(), 1, "{events:?}");
    assert_eq!(
        refreshed[0]["reason"],
        "the upstream refused the access token before it expired"
    );
    drop((first, second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn while_the_authorization_server_is_down_valid_tokens_pass_expired_ones_are_refused_clearly_and_it_recovers_by_itself(
) {
    let app = spawn_app_with(options()).await;
    let replica = app.spawn_proxy_replica(options()).await;
    let authorization = AuthorizationServer::start(super::ACCESS_TOKEN_SECONDS).await;
    let upstream = ProtectedServer::start(&authorization.issuer()).await;
    let tenant = sign_up(&app).await;
    let Connected { server, oauth_path } = connect(&app, &tenant, &authorization, &upstream).await;
    let (_, connected) = tenant.0.get(&oauth_path).await;
    let expires = time(&connected["access_expires_at"]);
    let grant = tenant.grant("agent", &server).await;
    let mut first = Driver::start(Sdk::Python2, &server.proxy_url, &grant.token).await;
    let second_url = replica.url(&format!("/mcp/{}/", server.id));
    let mut second = Driver::start(Sdk::Python2, &second_url, &grant.token).await;
    let listed = second.list_tools().await;
    assert_eq!(listed.len(), 2, "{listed:?}");

    authorization.stop().await;
    // Past the proxies' refresh time (a third of the lifetime ahead) and before expiry:
    // the refreshes fail, the still valid token keeps being sent.
    until(expires - chrono::TimeDelta::seconds(11)).await;
    assert!(
        Utc::now() < expires,
        "the machine was too slow for this step"
    );
    let burst = 10;
    let (on_first, on_second) = tokio::join!(
        first.call_times("read_notes", json!({"topic": "down"}), burst),
        second.call_times("read_notes", json!({"topic": "down"}), burst),
    );
    let answered = on_first
        .iter()
        .chain(&on_second)
        .filter(|outcome| outcome.text() == "notes about down")
        .count();
    assert_eq!(answered, 2 * burst as usize, "{on_first:?} {on_second:?}");
    let (_, backing_off) = tenant.0.get(&oauth_path).await;
    assert_eq!(backing_off["status"], "connected", "{backing_off}");
    let failure = &backing_off["refresh_failure"];
    let attempts = failure["attempts"]
        .as_i64()
        .expect("failed attempts counted");
    assert!(
        (1..=6).contains(&attempts),
        "{attempts} attempts for {} calls",
        2 * burst
    );
    assert!(
        failure["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("unavailable")),
        "{failure}"
    );
    assert!(time(&failure["next_attempt_at"]) > time(&failure["failed_at"]));
    assert!(
        backing_off["status_reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("could not renew")),
        "{backing_off}"
    );
    eprintln!(
        "authorization server down: {} calls through two replicas answered with the valid \
         token, {attempts} refresh attempt(s)",
        2 * burst
    );

    // Expired: the call is not sent with it; the agent hears which server and why.
    until(expires).await;
    let refused = first.call("read_notes", json!({"topic": "expired"})).await;
    let error = refused.error().expect("a JSON-RPC error, not a result");
    let message = error["message"].as_str().expect("an error message");
    assert!(
        message.contains("\"notes\"")
            && message.contains("authorization server is unreachable")
            && message.contains("next attempt is at"),
        "{message}"
    );
    let (_, expired) = tenant.0.get(&oauth_path).await;
    assert_eq!(expired["status"], "connected", "not a refusal: {expired}");

    // Back with its state: the next attempt after the backoff renews the token.
    authorization.restart().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut refused_meanwhile = 0;
    loop {
        let answer = first.call("read_notes", json!({"topic": "back"})).await;
        if answer.text() == "notes about back" {
            break;
        }
        assert!(answer.error().is_some(), "{:?}", answer.0);
        refused_meanwhile += 1;
        assert!(
            tokio::time::Instant::now() < deadline,
            "no recovery within 90 s: {:?}",
            answer.0
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let other = second.call("read_notes", json!({"topic": "back"})).await;
    assert_eq!(other.text(), "notes about back", "{:?}", other.0);
    let (_, recovered) = tenant.0.get(&oauth_path).await;
    assert_eq!(recovered["status"], "connected", "{recovered}");
    assert!(recovered["refresh_failure"].is_null(), "{recovered}");
    assert!(recovered["status_reason"].is_null(), "{recovered}");
    assert!(time(&recovered["access_expires_at"]) > Utc::now());
    let stats = authorization.stats().await;
    assert_eq!(
        (
            stats.code_grants,
            stats.refresh_grants,
            stats.refused_refreshes
        ),
        (1, 1, 0),
        "one refresh once it was back, none refused: {stats:?}"
    );
    let events = tenant
        .audit_events(&format!("server={}&limit=200", server.id))
        .await;
    let count = |method: &str| events.iter().filter(|e| e["method"] == method).count();
    assert_eq!(count("upstream_oauth/refreshed"), 1, "{events:?}");
    assert_eq!(count("upstream_oauth/refresh_failed"), 0);
    let postponed = count("upstream_oauth/refresh_postponed");
    assert!(postponed >= 2, "{events:?}");
    eprintln!(
        "authorization server restarted: recovered after {refused_meanwhile} refused call(s) \
         at 0.5 s intervals, {postponed} postponed refresh attempts in all"
    );
    drop((first, second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_renews_a_token_ahead_of_its_expiry_without_any_call() {
    let options = TestAppOptions {
        upstream_oauth_refresh_margin: Duration::from_secs(30),
        ..options()
    };
    let app = spawn_app_with(options).await;
    let authorization = AuthorizationServer::start(super::ACCESS_TOKEN_SECONDS).await;
    let upstream = ProtectedServer::start(&authorization.issuer()).await;
    let tenant = sign_up(&app).await;
    let Connected { server, oauth_path } = connect(&app, &tenant, &authorization, &upstream).await;
    let (_, connected) = tenant.0.get(&oauth_path).await;
    let expires = time(&connected["access_expires_at"]);
    assert!(connected["refreshed_at"].is_null(), "{connected}");
    let accepted_before = upstream.token_stats().await.accepted;

    // No agent calls; the API's scan renews the token half its lifetime ahead (the
    // margin is longer than that), before the proxies would find it due.
    let deadline = expires;
    let refreshed = loop {
        let (_, now) = tenant.0.get(&oauth_path).await;
        if now["refreshed_at"].is_string() {
            break now;
        }
        assert!(Utc::now() < deadline, "not renewed before expiry: {now}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let refreshed_at = time(&refreshed["refreshed_at"]);
    let ahead = (expires - refreshed_at).num_milliseconds() as f64 / 1000.0;
    let proxies_ahead = super::ACCESS_TOKEN_SECONDS as f64 / 3.0;
    assert!(
        ahead > proxies_ahead,
        "renewed {ahead} s ahead, after the proxies would have found it due"
    );
    assert_eq!(authorization.stats().await.refresh_grants, 1);
    assert_eq!(
        upstream.token_stats().await.accepted,
        accepted_before,
        "nobody called the upstream meanwhile"
    );
    assert!(time(&refreshed["access_expires_at"]) > expires);
    let events = tenant
        .audit_events(&format!("server={}&limit=200", server.id))
        .await;
    let renewed: Vec<&Value> = events
        .iter()
        .filter(|e| e["method"] == "upstream_oauth/refreshed")
        .collect();
    assert_eq!(renewed.len(), 1, "{events:?}");
    assert_eq!(renewed[0]["actor"], "mcpgate-api");
    assert_eq!(renewed[0]["reason"], "renewed ahead of its expiry");
    eprintln!("the API renewed a 40 s token {ahead:.1} s before its expiry");

    // The proxy sends the renewed token without refreshing again.
    let grant = tenant.grant("agent", &server).await;
    let mut agent = Driver::start(Sdk::Python2, &server.proxy_url, &grant.token).await;
    let called = agent.call("read_notes", json!({"topic": "renewed"})).await;
    assert_eq!(called.text(), "notes about renewed", "{:?}", called.0);
    assert_eq!(authorization.stats().await.refresh_grants, 1);
}
