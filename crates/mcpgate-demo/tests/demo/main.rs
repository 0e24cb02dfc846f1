//! The demo server, driven over HTTP. Handshake-era (2025-11-25 and earlier) and
//! HTTP+SSE behaviour here; the 2026-07-28 era in `modern`.

mod modern;

use std::time::{Duration, Instant};

use mcpgate_demo::{spawn, Catalog, DemoSettings, ResponseMode};
use mcpgate_mcp::sse::{SseEvent, SseParser};
use serde_json::{json, Value};

const ACCEPT: &str = "application/json, text/event-stream";

struct Client {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
}

impl Client {
    fn new(url: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            url,
            session: None,
        }
    }

    async fn post(&self, body: &Value) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        request.send().await.unwrap()
    }

    /// Sends a request and returns its JSON-RPC response, from JSON or SSE.
    async fn rpc(&self, method: &str, params: Value) -> Value {
        let response = self
            .post(&json!({"jsonrpc":"2.0","id":7,"method":method,"params":params}))
            .await;
        assert_eq!(response.status(), 200);
        let events = read_events(response).await;
        let last = events.last().expect("a response");
        serde_json::from_str(last.data().unwrap()).unwrap()
    }

    async fn initialize(&mut self) -> Value {
        let response = self
            .post(&json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}))
            .await;
        assert_eq!(response.status(), 200);
        self.session = Some(
            response.headers()["mcp-session-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
        let events = read_events(response).await;
        serde_json::from_str(events[0].data().unwrap()).unwrap()
    }
}

/// Reads a JSON body as one pseudo-event, or every SSE frame with data.
async fn read_events(mut response: reqwest::Response) -> Vec<SseEvent> {
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut parser = SseParser::new();
    if content_type.starts_with("application/json") {
        let body = response.bytes().await.unwrap();
        let mut framed = b"data: ".to_vec();
        framed.extend_from_slice(&body);
        framed.extend_from_slice(b"\n\n");
        parser.push(&framed).unwrap();
    } else {
        assert_eq!(content_type, "text/event-stream");
        while let Some(chunk) = response.chunk().await.unwrap() {
            parser.push(&chunk).unwrap();
        }
    }
    std::iter::from_fn(|| parser.next_event())
        .filter(SseEvent::is_dispatched)
        .collect()
}

fn text_of(response: &Value) -> &str {
    response["result"]["content"][0]["text"].as_str().unwrap()
}

async fn initialize_list_and_call(mode: ResponseMode) {
    let demo = spawn(DemoSettings {
        response_mode: mode,
        instructions: Some("be nice".into()),
        ..Default::default()
    })
    .await;
    let mut client = Client::new(demo.url());
    let init = client.initialize().await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "mcpgate-demo");
    assert_eq!(init["result"]["instructions"], "be nice");
    assert_eq!(init["id"], 0);

    let initialized = client
        .post(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
        .await;
    assert_eq!(initialized.status(), 202);
    assert!(initialized.bytes().await.unwrap().is_empty());

    let list = client.rpc("tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 57);
    assert!(tools.iter().all(|t| t.get("label").is_none()));
    assert!(list["result"].get("nextCursor").is_none());

    let call = client
        .rpc(
            "tools/call",
            json!({"name":"k8s_get_namespaces","arguments":{"context":"prod"}}),
        )
        .await;
    assert_eq!(call["id"], 7);
    assert_eq!(
        text_of(&call),
        r#"k8s_get_namespaces ok: {"context":"prod"}"#
    );
    assert_eq!(call["result"]["isError"], false);

    let unknown = client.rpc("tools/call", json!({"name":"nope"})).await;
    assert_eq!(unknown["result"]["isError"], true);
    let ping = client.rpc("ping", json!({})).await;
    assert_eq!(ping["result"], json!({}));
    let missing = client.rpc("resources/list", json!({})).await;
    assert_eq!(missing["error"]["code"], -32601);
}

#[tokio::test]
async fn initialize_list_and_call_over_json() {
    initialize_list_and_call(ResponseMode::Json).await;
}

#[tokio::test]
async fn initialize_list_and_call_over_sse() {
    initialize_list_and_call(ResponseMode::Sse).await;
}

#[tokio::test]
async fn sse_responses_carry_an_event_id() {
    let demo = spawn(DemoSettings {
        response_mode: ResponseMode::Sse,
        ..Default::default()
    })
    .await;
    let mut client = Client::new(demo.url());
    client.initialize().await;
    let response = client
        .post(&json!({"jsonrpc":"2.0","id":"x","method":"ping"}))
        .await;
    let events = read_events(response).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), Some("message"));
    assert!(events[0].id().is_some());
}

#[tokio::test]
async fn unsupported_protocol_version_gets_the_latest() {
    let demo = spawn(DemoSettings::default()).await;
    let client = Client::new(demo.url());
    let response = client
        .post(&json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}))
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
}

#[tokio::test]
async fn tools_list_pages_follow_next_cursor() {
    let demo = spawn(DemoSettings {
        page_size: Some(10),
        ..Default::default()
    })
    .await;
    let mut client = Client::new(demo.url());
    client.initialize().await;
    let (mut names, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let params = cursor.map_or_else(|| json!({}), |c| json!({ "cursor": c }));
        let page = client.rpc("tools/list", params).await;
        pages += 1;
        for tool in page["result"]["tools"].as_array().unwrap() {
            names.push(tool["name"].as_str().unwrap().to_owned());
        }
        match page["result"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(names, Catalog::builtin().names().collect::<Vec<_>>());
    let bad = client.rpc("tools/list", json!({"cursor":"zzz"})).await;
    assert_eq!(bad["error"]["code"], -32602);
}

#[tokio::test]
async fn sessions_are_required_known_and_end_on_delete() {
    let demo = spawn(DemoSettings::default()).await;
    let mut client = Client::new(demo.url());
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    assert_eq!(client.post(&ping).await.status(), 400);
    client.session = Some("not-a-session".into());
    let unknown = client.post(&ping).await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert!(body["error"]["code"].is_i64());

    client.initialize().await;
    assert_eq!(client.post(&ping).await.status(), 200);
    let delete = client
        .http
        .delete(&client.url)
        .header("mcp-session-id", client.session.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 200);
    assert_eq!(client.post(&ping).await.status(), 404);
}

#[tokio::test]
async fn malformed_bodies_get_json_rpc_errors() {
    let demo = spawn(DemoSettings::default()).await;
    let client = Client::new(demo.url());
    let response = client
        .http
        .post(&client.url)
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
}

#[tokio::test]
async fn get_opens_a_stream_of_keep_alives_that_ends_with_the_session() {
    let demo = spawn(DemoSettings {
        keep_alive_interval: Duration::from_millis(20),
        ..Default::default()
    })
    .await;
    let mut client = Client::new(demo.url());
    client.initialize().await;
    let session = client.session.clone().unwrap();
    let mut stream = client
        .http
        .get(&client.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let chunk = stream.chunk().await.unwrap().unwrap();
    assert_eq!(chunk.as_ref(), b": keep-alive\n\n");
    client
        .http
        .delete(&client.url)
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while stream.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends when the session is deleted");
}

#[tokio::test]
async fn progress_notifications_precede_the_result() {
    let demo = spawn(DemoSettings {
        progress_steps: 3,
        progress_interval: Duration::from_millis(5),
        ..Default::default()
    })
    .await;
    let mut client = Client::new(demo.url());
    client.initialize().await;
    let response = client
        .post(
            &json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{
            "name":"k8s_get_contexts","arguments":{},"_meta":{"progressToken":"tok-1"}}}),
        )
        .await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = read_events(response).await;
    assert_eq!(events.len(), 4);
    for (step, event) in events[..3].iter().enumerate() {
        let value: Value = serde_json::from_str(event.data().unwrap()).unwrap();
        assert_eq!(value["method"], "notifications/progress");
        assert_eq!(value["params"]["progressToken"], "tok-1");
        assert_eq!(value["params"]["progress"], step + 1);
        assert_eq!(value["params"]["total"], 3);
    }
    let result: Value = serde_json::from_str(events[3].data().unwrap()).unwrap();
    assert_eq!(text_of(&result), "k8s_get_contexts ok: {}");

    // Without a progress token the same call is a plain JSON answer.
    let plain = client
        .rpc("tools/call", json!({"name":"k8s_get_contexts"}))
        .await;
    assert_eq!(plain["id"], 7);
}

#[tokio::test]
async fn legacy_sse_names_the_endpoint_and_answers_on_the_stream() {
    let demo = spawn(DemoSettings::default()).await;
    let http = reqwest::Client::new();
    let mut stream = http
        .get(demo.sse_url())
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let mut parser = SseParser::new();
    let mut next_event = async || loop {
        if let Some(event) = parser.next_event() {
            if event.is_dispatched() {
                return event;
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        parser.push(&chunk).unwrap();
    };
    let endpoint = next_event().await;
    assert_eq!(endpoint.event_type(), Some("endpoint"));
    let path = endpoint.data().unwrap().to_owned();
    assert!(path.starts_with("/message?sessionId="), "{path}");
    let post_url = format!("http://{}{path}", demo.address());

    let post = |body: Value| http.post(&post_url).body(body.to_string()).send();
    let accepted = post(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05"}}))
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let init: Value = serde_json::from_str(next_event().await.data().unwrap()).unwrap();
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");

    post(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
        .await
        .unwrap();
    post(
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"k8s_get_contexts"}}),
    )
    .await
    .unwrap();
    let event = next_event().await;
    assert_eq!(event.event_type(), Some("message"));
    let call: Value = serde_json::from_str(event.data().unwrap()).unwrap();
    assert_eq!(call["id"], 2);
    assert_eq!(text_of(&call), "k8s_get_contexts ok: {}");

    let unknown = http
        .post(format!("http://{}/message?sessionId=nope", demo.address()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn injected_failures_latency_and_required_header() {
    let demo = spawn(DemoSettings {
        fail_tools: vec!["k8s_get_pods".into()],
        hang_tools: vec!["k8s_get_nodes".into()],
        latency: Duration::from_millis(60),
        require_header: Some(("x-upstream-key".into(), "s3cret".into())),
        ..Default::default()
    })
    .await;
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{}});
    let refused = http
        .post(demo.url())
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));

    let authed = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::HeaderName::from_static("x-upstream-key"),
                reqwest::header::HeaderValue::from_static("s3cret"),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    let mut client = Client::new(demo.url());
    client.http = authed;
    client.initialize().await;

    let started = Instant::now();
    let ok = client
        .rpc("tools/call", json!({"name":"k8s_get_contexts"}))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert_eq!(ok["result"]["isError"], false);

    let failed = client
        .post(
            &json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"k8s_get_pods"}}),
        )
        .await;
    assert_eq!(failed.status(), 500);

    let hang = tokio::time::timeout(
        Duration::from_millis(400),
        client.post(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"k8s_get_nodes"}})),
    )
    .await;
    assert!(hang.is_err(), "a hanging tool never answers");

    let recorded = demo.recorded();
    let recorded = recorded.lock().unwrap();
    assert!(recorded.len() >= 4);
    assert_eq!(recorded[0].header("x-upstream-key"), None);
    assert_eq!(recorded[1].header("x-upstream-key"), Some("s3cret"));
    assert!(recorded[1].body.contains("initialize"));
}

#[tokio::test]
async fn custom_catalogues_strip_extra_keys() {
    let catalog = Catalog::from_tools(&[json!({
        "name": "echo", "label": {"risk": "low"},
        "inputSchema": {"type": "object", "$defs": {"a": {}}}
    })])
    .unwrap();
    let demo = spawn(DemoSettings {
        catalog,
        ..Default::default()
    })
    .await;
    let mut client = Client::new(demo.url());
    client.initialize().await;
    let list = client.rpc("tools/list", json!({})).await;
    assert_eq!(
        list["result"]["tools"],
        json!([{"name":"echo","inputSchema":{"type":"object","$defs":{"a":{}}}}])
    );
}
