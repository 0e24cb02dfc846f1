//! MCP over plain HTTP: for what no SDK will do (send another grant's session id), and
//! for asking an upstream directly what the proxy must relay unchanged.

use serde_json::{json, Value};

/// An `initialize` request body (id 0, protocol 2025-06-18, no capabilities).
pub fn initialize_body() -> String {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "mcpgate-e2e", "version": "1"}}})
    .to_string()
}

/// A POST as MCP clients send it, with a grant token and, after `initialize`, the session.
pub fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    session: Option<&str>,
    body: String,
) -> reqwest::RequestBuilder {
    let mut request = client
        .post(url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body);
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-06-18");
    }
    request
}

/// `tools/call` straight to an upstream that answers JSON (no proxy): its `result`.
pub async fn direct_call(
    url: &str,
    headers: &[(&str, &str)],
    tool: &str,
    arguments: Value,
) -> Value {
    let client = reqwest::Client::new();
    let send = |session: Option<String>, body: String| {
        let mut request = client
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request.send()
    };
    let initialized = send(None, initialize_body())
        .await
        .expect("the upstream answers");
    let session = initialized.headers()["mcp-session-id"]
        .to_str()
        .expect("a session id")
        .to_owned();
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": tool, "arguments": arguments}});
    let answer: Value = send(Some(session), call.to_string())
        .await
        .expect("the upstream answers")
        .json()
        .await
        .expect("a JSON answer");
    answer["result"].clone()
}
