//! An upstream URL that leads back to mcpgate itself is refused (issue 11, item 4).

use mcpgate_testkit::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{demo, register, sign_up};

#[tokio::test]
async fn registering_the_proxys_own_url_is_refused_with_a_422_naming_the_loop() {
    let app = spawn_app().await;
    let tenant = sign_up(&app).await;
    // Private upstreams are allowed in tests, so only the own-address rule refuses these.
    let by_name = format!("http://localhost:{}/mcp/x/", app.proxy_addr.port());
    for url in [
        app.proxy_url("/mcp/some-server/"),
        app.api_url("/"),
        by_name,
    ] {
        let (status, body) = tenant
            .post("/api/v1/servers", json!({"name": "loop", "url": url}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert_eq!(
            body["error"]["code"], "upstream_is_mcpgate",
            "{url}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("this mcpgate deployment's own"),
            "{message}"
        );
    }
    let (_, listed) = tenant.get("/api/v1/servers").await;
    assert_eq!(listed["servers"], json!([]));
}

#[tokio::test]
async fn changing_a_servers_url_to_the_proxys_own_is_refused_and_keeps_the_old_url() {
    let app = spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let id = server["id"].as_str().expect("a server id");
    let path = format!("/api/v1/servers/{id}");
    let (status, body) = tenant
        .patch(&path, json!({"url": app.proxy_url(&format!("/mcp/{id}/"))}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "upstream_is_mcpgate");
    assert_eq!(body["error"]["details"][0]["path"], "/url");
    let (_, stored) = tenant.get(&path).await;
    assert_eq!(stored["url"], upstream.url());
}

#[tokio::test]
async fn discovery_marks_every_request_with_the_hop_header() {
    let app = spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    register(&tenant, "k8s", &upstream.url()).await;
    let recorded = upstream.recorded();
    let recorded = recorded.lock().unwrap();
    assert!(!recorded.is_empty(), "discovery reached the upstream");
    for request in recorded.iter() {
        assert_eq!(
            request.header("mcp-gate-hop"),
            Some("discovery"),
            "{request:?}"
        );
    }
}
