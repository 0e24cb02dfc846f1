//! An upstream URL that leads back to the proxy ends at the first hop (issue 11, item 4).

use serde_json::Value;

use crate::helpers::{initialize_body, spawn, Options, TestProxy};

/// Requests the demo upstream received so far (the test kit's own discovery included).
fn upstream_requests(proxy: &TestProxy) -> usize {
    proxy.demo.recorded().lock().unwrap().len()
}

async fn point_server_at(proxy: &TestProxy, url: &str) {
    // Before the first request: the proxy loads the server lazily, with this URL.
    sqlx::query("UPDATE servers SET url = $1 WHERE id = $2")
        .bind(url)
        .bind(proxy.server.as_uuid())
        .execute(&proxy.db.pool)
        .await
        .expect("changing the server's URL");
}

#[tokio::test]
async fn a_request_carrying_the_hop_header_is_refused_with_508() {
    let proxy = spawn(Options::default()).await;
    let before = upstream_requests(&proxy);
    let response = proxy
        .request(None, initialize_body())
        .header("mcp-gate-hop", "proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 508);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"]
        .as_str()
        .expect("a JSON error body");
    assert!(message.contains("loop detected"), "{message}");
    assert_eq!(upstream_requests(&proxy), before, "nothing went upstream");
    // The same request without the header goes through.
    proxy.initialize().await;
    assert!(upstream_requests(&proxy) > before);
}

#[tokio::test]
async fn every_forwarded_request_carries_the_hop_header() {
    let proxy = spawn(Options::default()).await;
    let before = upstream_requests(&proxy);
    proxy.initialize().await;
    let recorded = proxy.demo.recorded();
    let recorded = recorded.lock().unwrap();
    let forwarded = &recorded[before..];
    assert!(
        forwarded.len() >= 2,
        "initialize and initialized went upstream"
    );
    for request in forwarded {
        assert_eq!(request.header("mcp-gate-hop"), Some("proxy"), "{request:?}");
    }
}

#[tokio::test]
async fn a_server_whose_name_leads_to_the_proxy_itself_is_refused_when_connecting() {
    let proxy = spawn(Options::default()).await;
    // Private upstreams are allowed, and the name is not one the proxy knows as its own:
    // only the connection's address, checked at connect time, shows it is the proxy.
    let url = format!(
        "http://localhost:{}/mcp/{}/",
        proxy.addr.port(),
        proxy.server
    );
    point_server_at(&proxy, &url).await;
    let before = upstream_requests(&proxy);
    let response = proxy.post(None, initialize_body()).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    // Refused before a byte was sent: an unreachable upstream (a JSON-RPC error), not
    // the 508 the proxy would have answered to its own forwarded request.
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let message = body["error"]["message"].as_str().expect("a JSON-RPC error");
    assert!(message.contains("own address"), "{message}");
    assert!(!message.contains("loop detected"), "{message}");
    assert_eq!(upstream_requests(&proxy), before);
}

#[tokio::test]
async fn a_loop_through_another_replica_ends_at_the_first_hop() {
    let proxy = spawn(Options::default()).await;
    // A second proxy does not know the first's address as its own (as behind a load
    // balancer): it forwards, and the first refuses the marked request.
    let replica = proxy.replica().await;
    point_server_at(&proxy, &proxy.url()).await;
    let before = upstream_requests(&proxy);
    let response = proxy
        .request_at(replica.addr, None, initialize_body())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(
        status == 508 || text.contains("loop detected"),
        "the first hop refused the loop: {status} {text}"
    );
    assert_eq!(upstream_requests(&proxy), before);
}
