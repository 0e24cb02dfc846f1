//! The services answer health and readiness, and readiness names what is down.

use std::time::Duration;

use serde_json::Value;

#[tokio::test]
async fn both_services_are_ready_against_a_fresh_database_and_redis() {
    let app = mcpgate_testkit::spawn_app().await;
    for url in [app.api_url("/readyz"), app.proxy_url("/readyz")] {
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ready");
        assert_eq!(body["checks"]["postgres"]["status"], "up");
        assert_eq!(body["checks"]["redis"]["status"], "up");
        assert_eq!(body["checks"]["redis"]["topology"]["kind"], "single");
    }
    for url in [app.api_url("/healthz"), app.proxy_url("/healthz")] {
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert!(response.headers().contains_key("x-request-id"));
    }
}

#[tokio::test]
async fn readiness_turns_503_naming_redis_when_redis_dies() {
    let mut app = mcpgate_testkit::spawn_app().await;
    app.redis.kill().await;

    for url in [app.api_url("/readyz"), app.proxy_url("/readyz")] {
        let started = std::time::Instant::now();
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 503, "{url}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "readiness must answer promptly when Redis is gone"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "unavailable");
        assert_eq!(body["checks"]["redis"]["status"], "down");
        assert_eq!(body["checks"]["postgres"]["status"], "up");
        assert!(body["error"]["message"].as_str().unwrap().contains("redis"));
        // A healthy process stays healthy: only readiness reflects dependencies.
        let health = app
            .client
            .get(url.replace("readyz", "healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
    }
}

#[tokio::test]
async fn a_caller_request_id_is_echoed_back() {
    let app = mcpgate_testkit::spawn_app().await;
    let response = app
        .client
        .get(app.api_url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
}
