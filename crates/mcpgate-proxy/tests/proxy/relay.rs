use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mcpgate_demo::{DemoSettings, ResponseMode};
use serde_json::{json, Value};

use crate::helpers::{last_message, spawn, Options, UPSTREAM_HEADER};

#[tokio::test]
async fn initialize_then_tools_list_shows_only_what_the_policy_allows_byte_for_byte() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let response = proxy
        .post(
            Some(&session),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        )
        .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let list = last_message(&text);
    let tools = list["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["k8s_run_pod"],
        "default deny hides every tool but the allowed one"
    );
    // The kept tool's bytes are the upstream's bytes.
    let catalogue = include_str!("../../../mcpgate-demo/catalogs/k8s-multicluster-mcp.json");
    let upstream_tool: Value = serde_json::from_str::<Value>(catalogue).unwrap()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "k8s_run_pod")
        .cloned()
        .unwrap();
    assert_eq!(tools[0]["inputSchema"], upstream_tool["inputSchema"]);
}

#[tokio::test]
async fn an_allowed_call_is_relayed_byte_for_byte_with_the_servers_credentials_and_never_the_token()
{
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let body = r#"{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"k8s_run_pod","arguments":{"image":"nginx","name":"x", "context" : "prod"}}}"#;
    let response = proxy.post(Some(&session), body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let proxied = response.text().await.unwrap();

    let recorded = proxy.demo.recorded();
    let recorded = recorded.lock().unwrap().clone();
    let forwarded = recorded.iter().find(|r| r.body.contains("call-1")).unwrap();
    assert_eq!(
        forwarded.body, body,
        "the request body reached the upstream unchanged"
    );
    for request in &recorded {
        assert_eq!(request.header(UPSTREAM_HEADER.0), Some(UPSTREAM_HEADER.1));
        assert!(request.header("authorization").is_none());
        assert!(!request
            .headers
            .iter()
            .any(|(_, v)| v.contains(&proxy.token)));
    }
    // The upstream session id is not the client's.
    let upstream_session = forwarded.header("mcp-session-id").unwrap();
    assert_ne!(upstream_session, session);

    // The same call straight to the upstream answers the same bytes.
    let direct = proxy
        .client
        .post(proxy.demo.url())
        .header(UPSTREAM_HEADER.0, UPSTREAM_HEADER.1)
        .header("mcp-session-id", upstream_session)
        .header("accept", "application/json, text/event-stream")
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(proxied, direct);
}

#[tokio::test]
async fn progress_notifications_arrive_while_the_call_runs() {
    let proxy = spawn(Options {
        demo: DemoSettings {
            response_mode: ResponseMode::Sse,
            progress_steps: 3,
            progress_interval: Duration::from_millis(300),
            ..DemoSettings::default()
        },
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let body = json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{
        "name":"k8s_run_pod","arguments":{"image":"nginx"},"_meta":{"progressToken":"p1"}}});
    let started = Instant::now();
    let response = proxy.post(Some(&session), body.to_string()).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = response.bytes_stream();
    let mut seen = String::new();
    let mut first_progress_at = None;
    while let Some(chunk) = stream.next().await {
        seen.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        if first_progress_at.is_none() && seen.contains("notifications/progress") {
            first_progress_at = Some(started.elapsed());
        }
    }
    let first_progress_at = first_progress_at.expect("a progress notification");
    assert!(
        first_progress_at < Duration::from_millis(600),
        "the first progress event was held back: {first_progress_at:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(seen.matches("notifications/progress").count(), 3);
    assert_eq!(last_message(&seen)["id"], 5);
}

#[tokio::test]
async fn a_dead_upstream_is_a_json_rpc_error_and_the_reservation_is_released() {
    let mut proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    // The upstream goes away: connections are refused.
    let dead = mcpgate_demo::spawn(DemoSettings::default()).await;
    drop(std::mem::replace(&mut proxy.demo, dead));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let (status, response) = proxy
        .call(&session, 9, "k8s_run_pod", json!({"image":"nginx"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(response["id"], 9);
    assert_eq!(
        response["error"]["code"],
        mcpgate_proxy::UPSTREAM_UNAVAILABLE
    );
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("upstream"),
        "{response}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // The counter was reserved and given back.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut redis = proxy.redis_conn.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rl:*")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let count: i64 = redis::cmd("GET")
        .arg(&keys[0])
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn an_upstream_http_error_is_relayed_and_releases_the_reservation() {
    let proxy = spawn(Options {
        demo: DemoSettings {
            fail_tools: vec!["k8s_run_pod".into()],
            ..DemoSettings::default()
        },
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"k8s_run_pod","arguments":{}}});
    let response = proxy.post(Some(&session), body.to_string()).await;
    assert_eq!(response.status(), 500);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut redis = proxy.redis_conn.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rl:*")
        .query_async(&mut redis)
        .await
        .unwrap();
    let count: i64 = redis::cmd("GET")
        .arg(&keys[0])
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn an_upstream_on_a_private_address_is_refused_unless_allowed() {
    let proxy = spawn(Options {
        settings: |settings| settings.allow_private_upstreams = false,
        ..Options::default()
    })
    .await;
    let seen_before = proxy.demo.recorded().lock().unwrap().len();
    let response = proxy.post(None, crate::helpers::initialize_body()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], mcpgate_proxy::UPSTREAM_UNAVAILABLE);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("loopback"),
        "{body}"
    );
    assert_eq!(proxy.demo.recorded().lock().unwrap().len(), seen_before);
}

#[tokio::test]
async fn metrics_count_requests_and_decisions() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    proxy.call(&session, 1, "k8s_run_pod", json!({})).await;
    proxy.call(&session, 2, "k8s_delete_ns", json!({})).await;
    let text = proxy
        .client
        .get(format!("http://{}/metrics", proxy.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("mcpgate_proxy_requests_total{method=\"tools/call\"} 2"),
        "{text}"
    );
    assert!(text.contains("mcpgate_proxy_decisions_total{outcome=\"allow\"} 1"));
    assert!(text.contains("mcpgate_proxy_decisions_total{outcome=\"deny\"} 1"));
    assert!(text.contains("mcpgate_proxy_upstream_seconds_count"));
    assert!(text.contains("mcpgate_proxy_audit_queue_depth"));
}
