//! The login limit counts an attempt before its password is hashed, and keys on the
//! client behind trusted proxies only (issue 11, item 6).

use std::time::Duration;

use futures_util::future::join_all;
use mcpgate_testkit::{spawn_app_with, TestApp, TestAppOptions};
use reqwest::StatusCode;

use crate::helpers::{Browser, PASSWORD};

/// Logs in from a fresh browser, optionally through a proxy that names the client in
/// `X-Forwarded-For`; the status and `Retry-After`.
async fn log_in(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, Option<String>) {
    let browser = Browser::new(app);
    let csrf = browser.get("/login").await.csrf();
    let mut request = browser.client.post(app.api_url("/login")).form(&[
        ("csrf", csrf.as_str()),
        ("email", email),
        ("password", password),
    ]);
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    let response = request.send().await.expect("the API answers");
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    (response.status(), retry_after)
}

#[tokio::test]
async fn twenty_parallel_wrong_passwords_against_a_limit_of_five_hash_at_most_five() {
    // Permits for all twenty, so only the login limit can stop a hash.
    let app = spawn_app_with(TestAppOptions {
        password_hash_concurrency: 20,
        password_hash_wait: Duration::from_secs(120),
        ..TestAppOptions::default()
    })
    .await;
    let email = Browser::signed_up(&app).await.email;
    let answers = join_all((0..20).map(|_| log_in(&app, &email, "wrong password!", None))).await;
    let refused = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let checked = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(refused + checked, 20, "only 401s and 429s: {answers:?}");
    // Each 401 is one hash; before, all twenty were hashed and answered 401.
    assert_eq!(checked, 5, "{answers:?}");
    assert!(refused >= 15);
    assert!(answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .all(|(_, retry_after)| retry_after.is_some()));
    // The window holds: even the right password waits now.
    let (status, _) = log_in(&app, &email, PASSWORD, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn behind_a_trusted_proxy_two_forwarded_clients_are_limited_separately() {
    // The test client connects from loopback: loopback plays the load balancer.
    let app = spawn_app_with(TestAppOptions {
        trusted_proxies: &["127.0.0.0/8", "::1/128"],
        ..TestAppOptions::default()
    })
    .await;
    let email = Browser::signed_up(&app).await.email;
    let first = Some("203.0.113.10");
    for attempt in 1..=5 {
        let (status, _) = log_in(&app, &email, "wrong password!", first).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let (status, _) = log_in(&app, &email, "wrong password!", first).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the first client is limited"
    );
    // A client the first one's entry was forged in front of is still the proxy's view.
    let (status, _) = log_in(&app, &email, PASSWORD, Some("198.51.100.1, 203.0.113.10")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not.
    let (status, _) = log_in(&app, &email, PASSWORD, Some("203.0.113.20")).await;
    assert_eq!(status, StatusCode::OK, "the second client logs in");
}

#[tokio::test]
async fn an_untrusted_peers_forwarded_for_is_ignored() {
    let app = spawn_app_with(TestAppOptions::default()).await;
    let email = Browser::signed_up(&app).await.email;
    for attempt in 1..=5 {
        // A different forged client each time: all of them are the same peer.
        let forged = format!("203.0.113.{attempt}");
        let (status, _) = log_in(&app, &email, "wrong password!", Some(&forged)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let (status, retry_after) = log_in(&app, &email, PASSWORD, Some("198.51.100.99")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some());
}
