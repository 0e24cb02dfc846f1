//! What the demo server answers to each JSON-RPC message, independent of transport.

use std::time::Duration;

use mcpgate_mcp::{Kind, Message, INVALID_PARAMS, METHOD_NOT_FOUND};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::server::AppState;

/// Protocol versions of Streamable HTTP, oldest first.
const STREAMABLE_VERSIONS: &[&str] = &["2025-03-26", "2025-06-18", "2025-11-25"];
const LATEST: &str = "2025-11-25";
/// The only version the HTTP+SSE transport was specified for.
const LEGACY_VERSION: &str = "2024-11-05";

/// The answer to one message.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A notification or client response: nothing to send (202).
    Accepted,
    /// A JSON-RPC response.
    Message(String),
    /// Progress notifications, `interval` apart, then the response.
    Progress {
        notifications: Vec<String>,
        interval: Duration,
        response: String,
    },
    /// Injected failure: HTTP 500.
    Fail(String),
    /// Injected failure: never answered.
    Hang,
}

/// The version to answer `initialize` with: the client's if supported, else the latest.
pub(crate) fn negotiate(message: &Message<'_>, legacy: bool) -> &'static str {
    #[derive(Deserialize)]
    struct Params {
        #[serde(rename = "protocolVersion")]
        protocol_version: Option<String>,
    }
    let requested = message
        .params()
        .and_then(|p| serde_json::from_str::<Params>(p.get()).ok())
        .and_then(|p| p.protocol_version);
    let supported = STREAMABLE_VERSIONS
        .iter()
        .chain(legacy.then_some(&LEGACY_VERSION))
        .find(|v| requested.as_deref() == Some(**v));
    supported.copied().unwrap_or(LATEST)
}

pub(crate) async fn dispatch(state: &AppState, message: &Message<'_>, legacy: bool) -> Reply {
    let (Kind::Request, Some(id)) = (message.kind(), message.id()) else {
        return Reply::Accepted;
    };
    match message.method().unwrap_or_default() {
        "initialize" => Reply::Message(result(id, &initialize(state, negotiate(message, legacy)))),
        "ping" => Reply::Message(result(id, "{}")),
        "tools/list" => Reply::Message(list(state, id, message.params())),
        "tools/call" => call(state, id, message, |_, body| body).await,
        // One text resource per URI and one prompt per name, answered from the request,
        // so gateways' rules on `resources/read` and `prompts/get` can be exercised.
        "resources/read" => Reply::Message(result(id, &read(message.params()))),
        "prompts/get" => Reply::Message(result(id, &prompt(message.params()))),
        other => Reply::Message(error(
            id,
            METHOD_NOT_FOUND,
            &format!("method not found: {other}"),
        )),
    }
}

/// The named field of a request's params, as text.
pub(crate) fn param(params: Option<&RawValue>, field: &str) -> String {
    params
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p.get()).ok())
        .and_then(|p| p.get(field).and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

pub(crate) fn read(params: Option<&RawValue>) -> String {
    let uri = param(params, "uri");
    serde_json::json!({"contents": [{"uri": uri, "mimeType": "text/plain",
        "text": format!("demo resource {uri}")}]})
    .to_string()
}

pub(crate) fn prompt(params: Option<&RawValue>) -> String {
    let name = param(params, "name");
    serde_json::json!({"messages": [{"role": "user",
        "content": {"type": "text", "text": format!("demo prompt {name}")}}]})
    .to_string()
}

fn initialize(state: &AppState, version: &str) -> String {
    let settings = &state.settings;
    let mut result = serde_json::json!({
        "protocolVersion": version,
        "capabilities": {
            "tools": { "listChanged": false },
            "resources": {},
            "prompts": {},
        },
        "serverInfo": { "name": settings.server_name, "version": settings.server_version },
    });
    if let Some(instructions) = &settings.instructions {
        result["instructions"] = instructions.as_str().into();
    }
    result.to_string()
}

fn list(state: &AppState, id: &RawValue, params: Option<&RawValue>) -> String {
    match list_page(state, params) {
        Ok(body) => result(id, &body),
        Err(message) => error(id, INVALID_PARAMS, message),
    }
}

/// One `tools/list` page (the result body), or why the cursor was refused.
pub(crate) fn list_page(
    state: &AppState,
    params: Option<&RawValue>,
) -> Result<String, &'static str> {
    #[derive(Deserialize, Default)]
    struct Params {
        cursor: Option<String>,
    }
    let params: Params = params
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_default();
    let tools = state.settings.catalog.tools();
    let start = match params.cursor.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(offset)) if offset <= tools.len() => offset,
        Some(_) => return Err("invalid cursor"),
    };
    let end = state
        .settings
        .page_size
        .map_or(tools.len(), |size| (start + size.max(1)).min(tools.len()));
    let entries: Vec<&str> = tools[start..end].iter().map(|t| t.json.as_str()).collect();
    let mut body = format!("{{\"tools\":[{}]", entries.join(","));
    if end < tools.len() {
        body.push_str(&format!(",\"nextCursor\":\"{end}\""));
    }
    body.push('}');
    Ok(body)
}

/// A `tools/call` answered from the catalogue, after the injected latency and failures;
/// `finish` completes the result body as the request's era wants it.
pub(crate) async fn call(
    state: &AppState,
    id: &RawValue,
    message: &Message<'_>,
    finish: fn(&AppState, String) -> String,
) -> Reply {
    let call = match message.tool_call() {
        Ok(Some(call)) => call,
        Ok(None) => unreachable!("dispatch only sends tools/call here"),
        Err(e) => return Reply::Message(error(id, e.code(), &e.to_string())),
    };
    let settings = &state.settings;
    if !settings.latency.is_zero() {
        tokio::time::sleep(settings.latency).await;
    }
    let name = call.name.as_ref();
    if settings.fail_tools.iter().any(|t| t == name) {
        return Reply::Fail(format!("injected failure for {name}"));
    }
    if settings.hang_tools.iter().any(|t| t == name) {
        return Reply::Hang;
    }
    let (text, is_error) = if settings.catalog.contains(name) {
        (format!("{name} ok: {}", call.arguments), false)
    } else {
        (format!("unknown tool: {name}"), true)
    };
    let response = result(id, &finish(state, text_result(&text, is_error)));
    match progress_token(message) {
        Some(token) if settings.progress_steps > 0 => {
            let total = settings.progress_steps;
            let notifications = (1..=total)
                .map(|step| {
                    format!(
                        r#"{{"jsonrpc":"2.0","method":"notifications/progress","params":{{"progressToken":{},"progress":{step},"total":{total},"message":"step {step} of {total}"}}}}"#,
                        token.get()
                    )
                })
                .collect();
            Reply::Progress {
                notifications,
                interval: settings.progress_interval,
                response,
            }
        }
        _ => Reply::Message(response),
    }
}

fn progress_token<'a>(message: &Message<'a>) -> Option<&'a RawValue> {
    #[derive(Deserialize)]
    struct Params<'a> {
        #[serde(borrow, rename = "_meta")]
        meta: Option<Meta<'a>>,
    }
    #[derive(Deserialize)]
    struct Meta<'a> {
        #[serde(borrow, rename = "progressToken")]
        progress_token: Option<&'a RawValue>,
    }
    let params: Params<'a> = serde_json::from_str(message.params()?.get()).ok()?;
    params.meta?.progress_token
}

/// A `CallToolResult` body with one text block.
pub(crate) fn text_result(text: &str, is_error: bool) -> String {
    serde_json::json!({
        "content": [{ "type": "text", "text": text }],
        "isError": is_error,
    })
    .to_string()
}

pub(crate) fn result(id: &RawValue, result: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{},"result":{result}}}"#, id.get())
}

fn error(id: &RawValue, code: i64, message: &str) -> String {
    String::from_utf8(mcpgate_mcp::error_response(Some(id), code, message, None))
        .expect("JSON is UTF-8")
}
