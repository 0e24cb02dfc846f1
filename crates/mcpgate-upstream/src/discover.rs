//! Discovery over Streamable HTTP, with the fallback to legacy HTTP+SSE.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::Url;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::DiscoveryError;
use crate::legacy;
use crate::modern::{self, Probe};
use crate::rpc::{check_status, protocol, Rpc};
use crate::Era;

/// The protocol version discovery asks for in the `initialize` handshake.
pub(crate) const PROTOCOL_VERSION: &str = "2025-06-18";

/// What an upstream MCP server offers.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// `serverInfo` as sent (name, version, and whatever else).
    pub server_info: serde_json::Value,
    /// The negotiated protocol version: `2026-07-28` in the modern era, else the
    /// one `initialize` agreed on.
    pub protocol_version: String,
    /// How the upstream was spoken to: per-request envelope, or handshake and session.
    pub era: Era,
    /// The server's `instructions`, if any.
    pub instructions: Option<String>,
    /// Every tool, across all pages, in order.
    pub tools: Vec<DiscoveredTool>,
    /// Which transport answered.
    pub transport: Transport,
}

/// One tool, kept exactly as the server sent it.
#[derive(Debug, Clone)]
pub struct DiscoveredTool {
    /// The tool's `name`.
    pub name: String,
    /// The tool's JSON, byte-for-byte (never re-serialised: schemas must stay intact).
    pub json: Box<RawValue>,
}

/// The MCP transport an upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Streamable HTTP (2025-03-26 and later).
    StreamableHttp,
    /// HTTP+SSE (2024-11-05).
    LegacySse,
}

#[derive(Deserialize)]
struct InitializeResult {
    #[serde(rename = "protocolVersion")]
    protocol_version: String,
    #[serde(rename = "serverInfo", default)]
    server_info: serde_json::Value,
    #[serde(default)]
    instructions: Option<String>,
}

#[derive(Deserialize)]
struct ListResult {
    tools: Vec<Box<RawValue>>,
    #[serde(rename = "nextCursor", default)]
    next_cursor: Option<String>,
}

/// What discovery declares, in both eras: some servers list extra tools only to
/// clients with sampling, elicitation or roots, and the catalogue must hold every tool
/// an agent could be offered. Discovery never answers such requests: it only lists.
pub(crate) fn client_capabilities() -> serde_json::Value {
    serde_json::json!({ "sampling": {}, "elicitation": {}, "roots": { "listChanged": true } })
}

pub(crate) fn client_info() -> serde_json::Value {
    serde_json::json!({ "name": "mcpgate", "version": env!("CARGO_PKG_VERSION") })
}

pub(crate) fn initialize_body(id: u64) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": client_capabilities(),
            "clientInfo": client_info(),
        },
    })
    .to_string()
}

pub(crate) const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

pub(crate) fn list_body(id: u64, cursor: Option<&str>) -> String {
    let params = match cursor {
        Some(cursor) => serde_json::json!({ "cursor": cursor }),
        None => serde_json::json!({}),
    };
    serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params})
        .to_string()
}

pub(crate) fn parse_initialize(
    result: &RawValue,
) -> Result<(String, serde_json::Value, Option<String>), DiscoveryError> {
    let parsed: InitializeResult = serde_json::from_str(result.get())
        .map_err(|e| protocol("initialize", format!("unexpected result: {e}")))?;
    Ok((
        parsed.protocol_version,
        parsed.server_info,
        parsed.instructions,
    ))
}

/// Appends one page of tools; returns the next cursor.
pub(crate) fn parse_page(
    result: &RawValue,
    tools: &mut Vec<DiscoveredTool>,
) -> Result<Option<String>, DiscoveryError> {
    let page: ListResult = serde_json::from_str(result.get())
        .map_err(|e| protocol("tools/list", format!("unexpected result: {e}")))?;
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    for json in page.tools {
        let Named { name } = serde_json::from_str(json.get()).map_err(|e| {
            protocol(
                "tools/list",
                format!("tool #{} has no name: {e}", tools.len()),
            )
        })?;
        tools.push(DiscoveredTool { name, json });
    }
    Ok(page.next_cursor.filter(|c| !c.is_empty()))
}

pub(crate) fn too_many_pages(max_pages: usize) -> DiscoveryError {
    protocol(
        "tools/list",
        format!("more than {max_pages} pages; giving up"),
    )
}

/// Discovery over Streamable HTTP: the `server/discover` probe, then either modern
/// requests or the handshake (which falls back to HTTP+SSE in turn).
pub(crate) async fn streamable(
    rpc: &Rpc,
    url: &Url,
    max_pages: usize,
) -> Result<Discovery, DiscoveryError> {
    let refusal = match modern::probe(rpc, url).await? {
        Probe::Modern(discovered) => {
            return modern::discover(rpc, url, max_pages, discovered).await
        }
        Probe::Handshake { refusal } => refusal,
    };
    match (handshake(rpc, url, max_pages).await, refusal) {
        // The probe got a 2026-era error and nothing older answers either: the
        // probe's error says more than "not MCP".
        (Err(DiscoveryError::NotMcp { .. }), Some(refusal)) => Err(refusal),
        (outcome, _) => outcome,
    }
}

/// The `initialize` handshake over Streamable HTTP, falling back to HTTP+SSE.
async fn handshake(rpc: &Rpc, url: &Url, max_pages: usize) -> Result<Discovery, DiscoveryError> {
    let id = rpc.next_id();
    let response = rpc.post(url, None, initialize_body(id)).await?;
    // The specification's backwards-compatibility rule: a 4xx to the initialize POST
    // (404, 405; 400 from some servers) means "try the old HTTP+SSE transport".
    if matches!(response.status().as_u16(), 400 | 404 | 405) {
        let post_status = response.status().as_u16();
        return legacy::discover(rpc, url, max_pages, post_status).await;
    }
    check_status(url, &response)?;
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let result = rpc.read_result(url, "initialize", id, response).await?;
    let (protocol_version, server_info, instructions) = parse_initialize(&result)?;

    let outcome = async {
        let initialized = rpc
            .post(url, session.as_deref(), INITIALIZED.to_owned())
            .await?;
        check_status(url, &initialized)?;
        let mut tools = Vec::new();
        let mut cursor = None;
        for _ in 0..max_pages {
            let id = rpc.next_id();
            let response = rpc
                .post(url, session.as_deref(), list_body(id, cursor.as_deref()))
                .await?;
            let result = rpc.read_result(url, "tools/list", id, response).await?;
            cursor = parse_page(&result, &mut tools)?;
            if cursor.is_none() {
                return Ok(tools);
            }
        }
        Err(too_many_pages(max_pages))
    }
    .await;

    if let Some(session) = &session {
        // Be a good citizen; failures here change nothing for the caller.
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            rpc.client
                .delete(url.clone())
                .headers(rpc.headers.clone())
                .header("mcp-session-id", session)
                .send(),
        )
        .await;
    }
    Ok(Discovery {
        server_info,
        protocol_version,
        era: Era::Handshake,
        instructions,
        tools: outcome?,
        transport: crate::Transport::StreamableHttp,
    })
}

pub(crate) fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, DiscoveryError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let invalid = |what: &str| DiscoveryError::InvalidUrl {
            url: String::new(),
            reason: format!("header {name:?} has an invalid {what}"),
        };
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid("name"))?;
        let mut value =
            reqwest::header::HeaderValue::from_str(value).map_err(|_| invalid("value"))?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}
