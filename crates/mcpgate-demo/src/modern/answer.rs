//! What the demo answers to each modern method.

use mcpgate_mcp::METHOD_NOT_FOUND;
use serde_json::{json, Value};

use super::error::ModernError;
use super::ladder::Envelope;
use super::{mrtr, stamp, tasks};
use crate::dispatch::{self, result, Reply};
use crate::era::MODERN_VERSIONS;
use crate::server::{AppState, SharedState};

pub(crate) async fn answer(
    state: &SharedState,
    request: &Envelope<'_>,
) -> Result<Reply, ModernError> {
    let params = request.message.params();
    let body = match request.method {
        "server/discover" => stamp::cacheable(state, discover(state)),
        "tools/list" => {
            let page = dispatch::list_page(state, params).map_err(ModernError::invalid_params)?;
            stamp::cacheable(state, page)
        }
        "resources/read" => {
            required(request, "uri")?;
            stamp::cacheable(state, dispatch::read(params))
        }
        "prompts/get" => {
            required(request, "name")?;
            stamp::complete(state, dispatch::prompt(params))
        }
        "tools/call" => return call(state, request).await,
        "tasks/get" | "tasks/update" | "tasks/cancel" => tasks::answer(state, request)?,
        // Includes `initialize`, `ping`, `logging/setLevel`, `resources/subscribe`:
        // removed at 2026-07-28, so unknown here (CONF server-stateless).
        other => {
            return Err(ModernError::new(METHOD_NOT_FOUND, "Method not found")
                .with_data(Value::String(other.to_owned())))
        }
    };
    Ok(Reply::Message(result(request.id, &body)))
}

fn required(request: &Envelope<'_>, field: &str) -> Result<(), ModernError> {
    match request.str_param(field) {
        Some(_) => Ok(()),
        None => Err(ModernError::invalid_params(format!(
            "{} needs params.{field}",
            request.method
        ))),
    }
}

async fn call(state: &SharedState, request: &Envelope<'_>) -> Result<Reply, ModernError> {
    let call = request
        .message
        .tool_call()
        .map_err(|e| ModernError::invalid_params(e.to_string()))?
        .expect("only tools/call is answered here");
    if state.settings.interactive_tools {
        match call.name.as_ref() {
            mrtr::TOOL => return mrtr::confirm(state, request, &call.arguments),
            tasks::TOOL => return Ok(tasks::long_job(state, request, &call.arguments).await),
            _ => {}
        }
    }
    Ok(dispatch::call(state, request.id, request.message, stamp::complete).await)
}

/// SPEC server/discover.mdx. Only the modern version is listed, as the Python SDK's
/// dual-era server does: the handshake versions are offered by `initialize`, and
/// `-32022`'s `data.supported` must be a subset of this list (CONF stateless).
fn discover(state: &AppState) -> String {
    let settings = &state.settings;
    let mut capabilities = json!({
        "tools": { "listChanged": true },
        "resources": { "listChanged": true },
        "prompts": { "listChanged": true },
    });
    if settings.interactive_tools {
        capabilities["extensions"] = json!({ tasks::EXTENSION: {} });
    }
    let mut body = json!({
        "supportedVersions": MODERN_VERSIONS,
        "capabilities": capabilities,
    });
    if let Some(instructions) = &settings.instructions {
        body["instructions"] = instructions.as_str().into();
    }
    body.to_string()
}
