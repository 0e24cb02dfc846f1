//! Password hashing is bounded: beyond the permits, sign-ups get 503 with Retry-After
//! at once instead of queueing (issue 11, item 6).

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use mcpgate_testkit::{spawn_app_with, TestAppOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn parallel_sign_ups_beyond_the_hashing_permits_get_503_with_retry_after_and_none_hang() {
    let app = spawn_app_with(TestAppOptions {
        password_hash_concurrency: 1,
        password_hash_wait: Duration::ZERO,
        ..TestAppOptions::default()
    })
    .await;
    let started = Instant::now();
    let answers = join_all((0..12).map(|n| {
        let client = &app.client;
        let url = app.api_url("/api/v1/signup");
        async move {
            let response = client
                .post(url)
                .json(&json!({
                    "email": format!("parallel-{n}-{}@example.com", uuid::Uuid::new_v4().simple()),
                    "password": "correct horse battery",
                    "tenant_name": "Acme",
                }))
                .send()
                .await
                .expect("an answer, not a hang");
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|value| value.to_str().unwrap().to_owned());
            let body: Value = response.json().await.unwrap();
            (status, retry_after, body)
        }
    }))
    .await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    let created = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(busy.len() + created, 12, "only 201s and 503s: {answers:?}");
    assert!(created >= 1, "the permit was used: {answers:?}");
    assert!(
        !busy.is_empty(),
        "twelve at once do not fit one permit: {answers:?}"
    );
    for (_, retry_after, body) in &busy {
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert_eq!(body["error"]["code"], "busy", "{body}");
    }
    // Nobody queued behind the permit: the whole burst took about one hash per success.
    assert!(started.elapsed() < Duration::from_secs(60));
    // Once the burst is over, sign-up works again.
    mcpgate_testkit::rest::sign_up(&app).await;
}
