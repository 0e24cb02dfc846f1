//! Small MCP upstreams of each era, on `127.0.0.1:0`, that stop when dropped.
//!
//! - modern-only: answers only 2026-07-28 requests, with the Python SDK's ladder
//!   (`_meta` else `-32602`, mirrored headers else `-32020`, version else `-32022`);
//!   `initialize` is an unknown method (404 `-32601`), GET and DELETE are 405;
//! - old-only: the handshake and sessions; a request without a session (the probe)
//!   gets what old servers answer: 400 "Missing session ID" (Python SDK 1.x) or 404;
//! - dual-era: both, chosen per request by `MCP-Protocol-Version` as the SDKs do.
//!
//! One tool, `ask_model`, is listed only to clients that declare `sampling`, as some
//! servers do; every tool list is paged two tools at a time.
//!
//! Shared with the API's tests (`crates/mcpgate-api/tests/api/servers.rs`) by path.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

pub const MODERN: &str = "2026-07-28";
const HANDSHAKE: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// How an old-only server answers a POST without a session that is not `initialize`.
#[derive(Debug, Clone, Copy)]
pub enum Sessionless {
    /// 400 `{"id":"server-error","error":{"code":-32600,"message":"Bad Request: Missing session ID"}}`.
    MissingSession,
    /// 404, plain text.
    NotFound,
}

/// What a fixture speaks.
#[derive(Debug, Clone)]
pub struct Eras {
    /// Versions the modern ladder accepts; empty: no modern era.
    pub modern: Vec<&'static str>,
    /// `supportedVersions` in the `server/discover` result.
    pub advertised: Vec<&'static str>,
    /// The handshake era, and how it answers requests without a session.
    pub handshake: Option<Sessionless>,
    /// Answer requests with an SSE stream (a progress notification, then the response).
    pub sse: bool,
}

impl Eras {
    pub fn modern_only() -> Eras {
        Eras {
            modern: vec![MODERN],
            advertised: vec![MODERN],
            handshake: None,
            sse: false,
        }
    }

    pub fn dual() -> Eras {
        Eras {
            handshake: Some(Sessionless::MissingSession),
            ..Eras::modern_only()
        }
    }

    pub fn old_only(sessionless: Sessionless) -> Eras {
        Eras {
            modern: Vec::new(),
            advertised: Vec::new(),
            handshake: Some(sessionless),
            sse: false,
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `POST`, `GET`, `DELETE`.
    pub http: Method,
    pub headers: HeaderMap,
    /// The JSON-RPC body (`Null` if none).
    pub body: Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn method(&self) -> &str {
        self.body["method"].as_str().unwrap_or_default()
    }
}

/// A running fixture; stops on drop.
pub struct Upstream {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    pub async fn spawn(eras: Eras) -> Upstream {
        let state = Arc::new(Fixture {
            eras,
            sessions: Mutex::default(),
            seen: Arc::default(),
        });
        let seen = Arc::clone(&state.seen);
        let app = Router::new()
            .route("/mcp", post(on_post).get(on_other).delete(on_other))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Upstream {
            address,
            seen,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The JSON-RPC methods POSTed so far, in order.
    pub fn methods(&self) -> Vec<String> {
        self.seen()
            .iter()
            .filter(|s| s.http == Method::POST)
            .map(|s| s.method().to_owned())
            .collect()
    }
}

struct Fixture {
    eras: Eras,
    /// Session id → the client capabilities its `initialize` declared.
    sessions: Mutex<HashMap<String, Value>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

type Shared = Arc<Fixture>;

fn tools(capabilities: &Value) -> Vec<Value> {
    let mut tools = vec![
        json!({"name": "alpha", "description": "First.", "inputSchema": {"type": "object"}}),
        json!({"name": "beta", "description": "Second.", "inputSchema": {
            "type": "object",
            "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
            "additionalProperties": false
        }}),
        json!({"name": "gamma", "description": "Third.", "inputSchema": {"type": "object"}}),
    ];
    if capabilities.get("sampling").is_some() {
        tools.push(
            json!({"name": "ask_model", "description": "Asks the client's model.",
            "inputSchema": {"type": "object"}}),
        );
    }
    tools
}

fn page(id: &Value, params: &Value, capabilities: &Value, modern: bool) -> Value {
    let all = tools(capabilities);
    let start: usize = params["cursor"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let end = (start + 2).min(all.len());
    let mut result = json!({ "tools": all[start.min(end)..end] });
    if end < all.len() {
        result["nextCursor"] = json!(end.to_string());
    }
    if modern {
        result["resultType"] = json!("complete");
        result["ttlMs"] = json!(0);
        result["cacheScope"] = json!("private");
    }
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn error(
    status: StatusCode,
    id: &Value,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Response {
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "error": error});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn answer(fixture: &Fixture, body: Value) -> Response {
    if !fixture.eras.sse {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    let log = json!({"jsonrpc": "2.0", "method": "notifications/message",
        "params": {"level": "info", "data": "listing"}});
    let stream =
        format!("event: message\r\ndata: {log}\r\n\r\nevent: message\r\ndata: {body}\r\n\r\n");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/event-stream")],
        stream,
    )
        .into_response()
}

fn header_once<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ()> {
    let mut values = headers.get_all(name).iter();
    let first = values.next().map(|v| v.to_str().unwrap_or_default());
    if values.next().is_some() {
        return Err(());
    }
    Ok(first)
}

async fn on_post(State(fixture): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    fixture.seen.lock().unwrap().push(Seen {
        http: Method::POST,
        headers: headers.clone(),
        body: body.clone(),
    });
    let version = headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok());
    let modern_request = version.is_some_and(|v| !HANDSHAKE.contains(&v));
    let speaks_modern = !fixture.eras.modern.is_empty();
    match (modern_request, speaks_modern, fixture.eras.handshake) {
        (true, true, _) => modern(&fixture, &headers, &body),
        (_, _, Some(sessionless)) => handshake(&fixture, &headers, &body, sessionless),
        (_, _, None) => without_envelope(&body),
    }
}

async fn on_other(State(fixture): State<Shared>, method: Method, headers: HeaderMap) -> Response {
    fixture.seen.lock().unwrap().push(Seen {
        http: method.clone(),
        headers: headers.clone(),
        body: Value::Null,
    });
    let session = headers.get("mcp-session-id").and_then(|v| v.to_str().ok());
    match (method, session, fixture.eras.handshake) {
        (Method::DELETE, Some(session), Some(_)) => {
            match fixture.sessions.lock().unwrap().remove(session) {
                Some(_) => StatusCode::OK.into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        _ => (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")]).into_response(),
    }
}

/// A modern-only server's answer to a request that is not a modern one.
fn without_envelope(body: &Value) -> Response {
    let id = &body["id"];
    if body["method"] == "initialize" {
        return error(
            StatusCode::NOT_FOUND,
            id,
            -32601,
            "Method not found",
            Some(json!("initialize")),
        );
    }
    if body["params"]["_meta"].is_null() {
        return error(
            StatusCode::BAD_REQUEST,
            id,
            -32602,
            "params._meta is required",
            None,
        );
    }
    error(
        StatusCode::BAD_REQUEST,
        id,
        -32020,
        "mcp-protocol-version header is missing",
        None,
    )
}

fn modern(fixture: &Fixture, headers: &HeaderMap, body: &Value) -> Response {
    let id = &body["id"];
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    }
    let meta = &body["params"]["_meta"];
    let claimed = meta["io.modelcontextprotocol/protocolVersion"].as_str();
    let capabilities = &meta["io.modelcontextprotocol/clientCapabilities"];
    let (Some(claimed), true) = (claimed, capabilities.is_object()) else {
        return error(
            StatusCode::BAD_REQUEST,
            id,
            -32602,
            "the request envelope is incomplete",
            None,
        );
    };
    let (Ok(version), Ok(method)) = (
        header_once(headers, "mcp-protocol-version"),
        header_once(headers, "mcp-method"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            id,
            -32020,
            "a mirrored header appears more than once",
            None,
        );
    };
    let method_name = body["method"].as_str().unwrap_or_default();
    if version != Some(claimed) || method != Some(method_name) {
        return error(
            StatusCode::BAD_REQUEST,
            id,
            -32020,
            "a header does not match the body",
            None,
        );
    }
    if !fixture.eras.modern.contains(&claimed) {
        let data = json!({"supported": fixture.eras.modern, "requested": claimed});
        return error(
            StatusCode::BAD_REQUEST,
            id,
            -32022,
            "Unsupported protocol version",
            Some(data),
        );
    }
    match method_name {
        "server/discover" => answer(
            fixture,
            json!({"jsonrpc": "2.0", "id": id, "result": {
                "supportedVersions": fixture.eras.advertised,
                "capabilities": {"tools": {"listChanged": true}},
                "instructions": "modern instructions",
                "resultType": "complete", "ttlMs": 0, "cacheScope": "private",
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "era-fixture", "version": "1"}}
            }}),
        ),
        "tools/list" => answer(fixture, page(id, &body["params"], capabilities, true)),
        other => error(
            StatusCode::NOT_FOUND,
            id,
            -32601,
            "Method not found",
            Some(json!(other)),
        ),
    }
}

fn handshake(
    fixture: &Fixture,
    headers: &HeaderMap,
    body: &Value,
    sessionless: Sessionless,
) -> Response {
    let id = &body["id"];
    if body["method"] == "initialize" {
        let session = format!("session-{}", fixture.seen.lock().unwrap().len());
        let requested = body["params"]["protocolVersion"]
            .as_str()
            .unwrap_or_default();
        let version = if HANDSHAKE.contains(&requested) {
            requested
        } else {
            "2025-11-25"
        };
        fixture
            .sessions
            .lock()
            .unwrap()
            .insert(session.clone(), body["params"]["capabilities"].clone());
        let mut response = answer(
            fixture,
            json!({"jsonrpc": "2.0", "id": id, "result": {
                "protocolVersion": version,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "era-fixture", "version": "1"},
                "instructions": "handshake instructions"
            }}),
        );
        response
            .headers_mut()
            .insert("mcp-session-id", session.parse().unwrap());
        return response;
    }
    let Some(session) = headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) else {
        return match sessionless {
            Sessionless::MissingSession => {
                let body = json!({"jsonrpc": "2.0", "id": "server-error",
                    "error": {"code": -32600, "message": "Bad Request: Missing session ID"}});
                (
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
                    .into_response()
            }
            Sessionless::NotFound => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        };
    };
    let Some(capabilities) = fixture.sessions.lock().unwrap().get(session).cloned() else {
        return (StatusCode::NOT_FOUND, "unknown session").into_response();
    };
    match (body["method"].as_str(), body.get("id")) {
        (_, None) => StatusCode::ACCEPTED.into_response(),
        (Some("tools/list"), Some(_)) => {
            answer(fixture, page(id, &body["params"], &capabilities, false))
        }
        (other, Some(_)) => {
            let body = json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": format!("method not found: {other:?}")}});
            answer(fixture, body)
        }
    }
}
