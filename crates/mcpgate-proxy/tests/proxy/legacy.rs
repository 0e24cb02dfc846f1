//! Legacy HTTP+SSE servers: the endpoint event is rewritten to the proxy, calls are
//! enforced, and every answer (the proxy's refusals too) arrives on the client's stream.

use std::time::Duration;

use mcpgate_demo::DemoSettings;
use serde_json::{json, Value};

use crate::helpers::{add_legacy_server, spawn, Options, SEED_POLICY, UPSTREAM_HEADER};

/// Reads SSE events from a streaming response.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The next event's type and data (comments skipped).
    async fn next(&mut self) -> (Option<String>, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut event = None;
                let mut data = Vec::new();
                for line in raw.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push(value.trim_start().to_owned());
                    }
                }
                if event.is_some() || !data.is_empty() {
                    return (event, data.join("\n"));
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.response.chunk())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .expect("the stream is still open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next JSON-RPC message answering `id`.
    async fn answer(&mut self, id: u64) -> Value {
        loop {
            let (event, data) = self.next().await;
            if event.as_deref().unwrap_or("message") != "message" {
                continue;
            }
            let message: Value = serde_json::from_str(&data).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    }
}

#[tokio::test]
async fn a_legacy_server_is_relayed_enforced_and_answered_on_the_clients_stream() {
    let proxy = spawn(Options::default()).await;
    let legacy = mcpgate_demo::spawn(DemoSettings {
        require_header: Some((UPSTREAM_HEADER.0.into(), UPSTREAM_HEADER.1.into())),
        ..DemoSettings::default()
    })
    .await;
    let (server, token) = add_legacy_server(&proxy, &legacy, SEED_POLICY).await;
    let base = format!("http://{}", proxy.addr);
    let stream = proxy
        .client
        .get(format!("{base}/mcp/{server}/sse"))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut events = Events {
        response: stream,
        buffer: String::new(),
    };
    let (event, endpoint) = events.next().await;
    assert_eq!(event.as_deref(), Some("endpoint"));
    let prefix = format!("/mcp/{server}/message?sessionId=");
    assert!(endpoint.starts_with(&prefix), "{endpoint}");

    let post = |body: Value| {
        proxy
            .client
            .post(format!("{base}{endpoint}"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let accepted = post(
        json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
    )
    .await
    .unwrap();
    assert!(accepted.status().is_success(), "{}", accepted.status());
    assert!(events.answer(0).await["result"]["serverInfo"].is_object());
    post(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
        .await
        .unwrap();

    post(json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}))
        .await
        .unwrap();
    let list = events.answer(1).await;
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["k8s_run_pod"]);

    let refused = post(json!({"jsonrpc":"2.0","id":2,"method":"tools/call",
        "params":{"name":"k8s_delete_ns","arguments":{"name":"prod"}}}))
    .await
    .unwrap();
    assert_eq!(refused.status(), 202);
    let refusal = events.answer(2).await;
    assert_eq!(refusal["result"]["isError"], true);
    assert!(refusal["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("[POLICY DENIED] "));
    assert!(!legacy
        .recorded()
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.body.contains("k8s_delete_ns")));

    post(json!({"jsonrpc":"2.0","id":3,"method":"tools/call",
        "params":{"name":"k8s_run_pod","arguments":{"image":"nginx"}}}))
    .await
    .unwrap();
    let result = events.answer(3).await;
    assert!(result["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("k8s_run_pod ok"));

    // The stream lives in this process: another replica does not know the session.
    let other = proxy.replica().await;
    let elsewhere = proxy
        .client
        .post(format!("http://{}{endpoint}", other.addr))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(json!({"jsonrpc":"2.0","id":4,"method":"ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);
}
