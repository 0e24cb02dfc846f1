//! The 2026-07-28 era on the same `/mcp` endpoint: stateless requests, the envelope in
//! `_meta`, mirrored headers checked against the body.

mod interactive;

use mcpgate_demo::{spawn, CacheScope, DemoSettings, Era};
use serde_json::{json, Value};
use std::time::Duration;

pub(super) const VERSION: &str = "2026-07-28";
const ACCEPT: &str = "application/json, text/event-stream";

/// A modern request: its body and the headers a correct client sends with it.
pub(super) struct Request {
    pub(super) body: Value,
    pub(super) headers: Vec<(String, String)>,
}

impl Request {
    /// `method` with `params` plus the envelope declaring `capabilities`, and the
    /// headers mirrored from the body (`Mcp-Name` from name, uri or taskId).
    pub(super) fn new(id: u64, method: &str, params: Value, capabilities: Value) -> Self {
        let mut params = params;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": VERSION,
            "io.modelcontextprotocol/clientCapabilities": capabilities,
            "io.modelcontextprotocol/clientInfo": {"name": "demo-test", "version": "1"},
        });
        let mut headers = vec![
            ("mcp-protocol-version".to_owned(), VERSION.to_owned()),
            ("mcp-method".to_owned(), method.to_owned()),
        ];
        let name = ["name", "uri", "taskId"]
            .into_iter()
            .find_map(|field| params.get(field).and_then(Value::as_str));
        if let Some(name) = name {
            headers.push(("mcp-name".to_owned(), name.to_owned()));
        }
        Self {
            body: json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
            headers,
        }
    }

    pub(super) fn set_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(super) fn add_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self
    }

    pub(super) async fn send(&self, url: &str) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .body(self.body.to_string());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request.send().await.unwrap()
    }

    /// Sends and reads a JSON answer: HTTP status and JSON-RPC message.
    pub(super) async fn answer(&self, url: &str) -> (u16, Value) {
        let response = self.send(url).await;
        let status = response.status().as_u16();
        assert_eq!(response.headers()["content-type"], "application/json");
        assert!(
            response.headers().get("mcp-session-id").is_none(),
            "the modern era issues no session"
        );
        (status, response.json().await.unwrap())
    }
}

pub(super) fn text_of(response: &Value) -> &str {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {response}"))
}

#[tokio::test]
async fn modern_requests_are_served_without_a_session_and_recorded_as_modern() {
    let demo = spawn(DemoSettings::default()).await;
    let url = demo.url();

    let (status, list) = Request::new(1, "tools/list", json!({}), json!({}))
        .answer(&url)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["id"], 1);
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 57);
    assert_eq!(list["result"]["resultType"], "complete");
    assert_eq!(list["result"]["ttlMs"], 60000);
    assert_eq!(list["result"]["cacheScope"], "public");
    assert_eq!(
        list["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "mcpgate-demo"
    );

    let (status, call) = Request::new(
        2,
        "tools/call",
        json!({"name": "k8s_get_namespaces", "arguments": {"context": "prod"}}),
        json!({}),
    )
    .answer(&url)
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        text_of(&call),
        r#"k8s_get_namespaces ok: {"context":"prod"}"#
    );
    assert_eq!(call["result"]["resultType"], "complete");
    assert!(
        call["result"].get("ttlMs").is_none(),
        "calls are not cacheable"
    );

    let (_, read) = Request::new(3, "resources/read", json!({"uri": "demo://a"}), json!({}))
        .answer(&url)
        .await;
    assert_eq!(
        read["result"]["contents"][0]["text"],
        "demo resource demo://a"
    );
    assert_eq!(read["result"]["cacheScope"], "public");
    let (_, prompt) = Request::new(4, "prompts/get", json!({"name": "p"}), json!({}))
        .answer(&url)
        .await;
    assert_eq!(prompt["result"]["resultType"], "complete");

    let recorded = demo.recorded();
    let recorded = recorded.lock().unwrap();
    assert_eq!(recorded.len(), 4);
    assert!(recorded.iter().all(|r| r.era == Era::Modern));
    assert_eq!(recorded[1].rpc_method().as_deref(), Some("tools/call"));
    assert_eq!(recorded[1].header("mcp-name"), Some("k8s_get_namespaces"));
    assert_eq!(recorded[1].header("mcp-protocol-version"), Some(VERSION));
}

#[tokio::test]
async fn handshake_requests_on_the_same_endpoint_stay_in_the_handshake_era() {
    let demo = spawn(DemoSettings::default()).await;
    let initialize = reqwest::Client::new()
        .post(demo.url())
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .body(
            json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                "protocolVersion":"2025-11-25","capabilities":{},
                "clientInfo":{"name":"t","version":"1"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(initialize.status(), 200);
    assert!(initialize.headers().contains_key("mcp-session-id"));
    // A modern body without the header lands on the legacy path, as with the Python SDK.
    let unheaded = Request::new(1, "tools/list", json!({}), json!({}))
        .without_header("mcp-protocol-version")
        .send(&demo.url())
        .await;
    assert_eq!(unheaded.status(), 400);

    let recorded = demo.recorded();
    let eras: Vec<Era> = recorded.lock().unwrap().iter().map(|r| r.era).collect();
    assert_eq!(eras, [Era::Handshake, Era::Handshake]);
}

#[tokio::test]
async fn discover_lists_the_modern_version_and_the_configured_cache_hint() {
    let demo = spawn(DemoSettings {
        cache_scope: CacheScope::Private,
        cache_ttl: Duration::from_secs(5),
        instructions: Some("be nice".into()),
        ..Default::default()
    })
    .await;
    let (status, discover) = Request::new(1, "server/discover", json!({}), json!({}))
        .answer(&demo.url())
        .await;
    assert_eq!(status, 200);
    let result = &discover["result"];
    assert_eq!(result["supportedVersions"], json!([VERSION]));
    assert_eq!(result["capabilities"]["tools"]["listChanged"], true);
    assert!(result["capabilities"].get("extensions").is_none());
    assert_eq!(result["instructions"], "be nice");
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["cacheScope"], "private");
    assert_eq!(result["ttlMs"], 5000);
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "mcpgate-demo"
    );
}

#[tokio::test]
async fn a_request_without_the_envelope_is_invalid_params() {
    let demo = spawn(DemoSettings::default()).await;
    let mut request = Request::new(1, "tools/list", json!({}), json!({}));
    request.body["params"]["_meta"]
        .as_object_mut()
        .unwrap()
        .remove("io.modelcontextprotocol/clientCapabilities");
    let (status, answer) = request.answer(&demo.url()).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], -32602);
    assert_eq!(answer["id"], 1);

    let mut bare = Request::new(2, "tools/list", json!({}), json!({}));
    bare.body.as_object_mut().unwrap().remove("params");
    let (status, answer) = bare.answer(&demo.url()).await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (400, json!(-32602))
    );
}

#[tokio::test]
async fn mirrored_headers_that_disagree_with_the_body_are_refused_naming_the_header() {
    let demo = spawn(DemoSettings::default()).await;
    let url = demo.url();
    let call = || {
        Request::new(
            1,
            "tools/call",
            json!({"name": "k8s_get_contexts", "arguments": {}}),
            json!({}),
        )
    };
    let cases = [
        (
            "no Mcp-Method",
            call().without_header("mcp-method"),
            "Mcp-Method",
        ),
        (
            "Mcp-Method case",
            call().set_header("mcp-method", "Tools/Call"),
            "Mcp-Method",
        ),
        ("no Mcp-Name", call().without_header("mcp-name"), "Mcp-Name"),
        (
            "other Mcp-Name",
            call().set_header("mcp-name", "k8s_delete"),
            "Mcp-Name",
        ),
        (
            "two Mcp-Name",
            call().add_header("mcp-name", "k8s_get_contexts"),
            "more than once",
        ),
        (
            "bad base64",
            call().set_header("mcp-name", "=?base64?SGVsbG8?="),
            "base64",
        ),
        (
            "version header and _meta differ",
            call().set_header("mcp-protocol-version", "2026-12-31"),
            "MCP-Protocol-Version",
        ),
        (
            "resources/read uri",
            Request::new(1, "resources/read", json!({"uri": "demo://a"}), json!({}))
                .set_header("mcp-name", "demo://b"),
            "Mcp-Name",
        ),
    ];
    for (case, request, named) in cases {
        let (status, answer) = request.answer(&url).await;
        assert_eq!(status, 400, "{case}");
        assert_eq!(answer["error"]["code"], -32020, "{case}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{case}: {message}");
    }

    let accepted = [
        (
            "padded Mcp-Name",
            call().set_header("mcp-name", "  k8s_get_contexts\t"),
        ),
        (
            "base64 Mcp-Name",
            // base64("k8s_get_contexts")
            call().set_header("mcp-name", "=?base64?azhzX2dldF9jb250ZXh0cw==?="),
        ),
    ];
    for (case, request) in accepted {
        let (status, answer) = request.answer(&url).await;
        assert_eq!(status, 200, "{case}: {answer}");
        assert_eq!(text_of(&answer), "k8s_get_contexts ok: {}", "{case}");
    }
}

#[tokio::test]
async fn an_unsupported_version_names_the_supported_ones() {
    let demo = spawn(DemoSettings::default()).await;
    let mut request = Request::new(1, "server/discover", json!({}), json!({}))
        .set_header("mcp-protocol-version", "v999.0.0");
    request.body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("v999.0.0");
    let (status, answer) = request.answer(&demo.url()).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], -32022);
    assert_eq!(
        answer["error"]["data"],
        json!({"supported": [VERSION], "requested": "v999.0.0"})
    );
    let recorded = demo.recorded();
    assert_eq!(recorded.lock().unwrap()[0].era, Era::Modern);
}

#[tokio::test]
async fn removed_and_unknown_methods_are_not_found() {
    let demo = spawn(DemoSettings::default()).await;
    for method in [
        "initialize",
        "ping",
        "resources/subscribe",
        "unknown/method",
    ] {
        let (status, answer) = Request::new(1, method, json!({}), json!({}))
            .answer(&demo.url())
            .await;
        assert_eq!(status, 404, "{method}");
        assert_eq!(answer["error"]["code"], -32601, "{method}");
        assert_eq!(answer["error"]["data"], method);
    }
}

#[tokio::test]
async fn get_and_delete_with_a_modern_header_are_not_allowed() {
    let demo = spawn(DemoSettings::default()).await;
    let http = reqwest::Client::new();
    for request in [http.get(demo.url()), http.delete(demo.url())] {
        let response = request
            .header("mcp-protocol-version", VERSION)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "POST");
        assert!(response.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn bodies_that_are_not_one_request_are_refused_and_notifications_accepted() {
    let demo = spawn(DemoSettings::default()).await;
    let one = Request::new(1, "tools/list", json!({}), json!({}));
    let mut batch = Request::new(1, "tools/list", json!({}), json!({}));
    batch.body = json!([one.body.clone(), one.body.clone()]);
    let (status, answer) = batch.answer(&demo.url()).await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (400, json!(-32600))
    );

    let mut notification = Request::new(1, "notifications/cancelled", json!({}), json!({}));
    notification.body.as_object_mut().unwrap().remove("id");
    let response = notification.send(&demo.url()).await;
    assert_eq!(response.status(), 202);

    let not_sse = reqwest::Client::new()
        .post(demo.url())
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", VERSION)
        .header("mcp-method", "tools/list")
        .body(one.body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(not_sse.status(), 406);
}

#[tokio::test]
async fn modern_progress_streams_carry_no_event_ids() {
    let demo = spawn(DemoSettings {
        progress_steps: 2,
        progress_interval: Duration::from_millis(5),
        ..Default::default()
    })
    .await;
    let mut request = Request::new(
        1,
        "tools/call",
        json!({"name": "k8s_get_contexts"}),
        json!({}),
    );
    request.body["params"]["_meta"]["progressToken"] = json!("p1");
    let mut response = request.send(&demo.url()).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut parser = mcpgate_mcp::sse::SseParser::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        parser.push(&chunk).unwrap();
    }
    let events: Vec<_> = std::iter::from_fn(|| parser.next_event())
        .filter(mcpgate_mcp::sse::SseEvent::is_dispatched)
        .collect();
    assert_eq!(events.len(), 3);
    assert!(
        events.iter().all(|e| e.id().is_none()),
        "no resumability at 2026-07-28"
    );
    let last: Value = serde_json::from_str(events[2].data().unwrap()).unwrap();
    assert_eq!(last["result"]["resultType"], "complete");
}
