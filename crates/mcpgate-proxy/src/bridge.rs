//! A 2026-07-28 client in front of an upstream that speaks only the handshake era: the
//! proxy holds the upstream session itself. On the client's `server/discover` (or its
//! first request) the proxy initialises a session upstream with the client's declared
//! capabilities, keeps it in Redis sealed to the grant and server (any replica serves the
//! next request; a lost entry just means a new session), and sends each modern request
//! on it with the negotiated version. Handshake-era results need no rewriting: a modern
//! client reads a missing `resultType` as `complete` and a missing `ttlMs` as 0.
//!
//! Not bridged: requests the upstream sends to the client in the middle of a call
//! (sampling, elicitation: a modern client answers those through `input_required`,
//! which a handshake server never sends), and `subscriptions/listen`.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use mcpgate_mcp::sse::SseParser;
use mcpgate_mcp::{Incoming, Kind};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::relay::{self, UpstreamFailure, SESSION_HEADER};
use crate::session;
use crate::state::AppState;

/// How long an idle bridged session is kept.
const SESSION_TTL: Duration = Duration::from_secs(10 * 60);

/// What initialising the upstream session answered, for a `server/discover` answer.
#[derive(Debug, Clone)]
pub(crate) struct Bridged {
    /// The upstream's session id.
    pub(crate) session: String,
    /// The version negotiated with the upstream.
    pub(crate) version: String,
    /// The upstream's `initialize` result (capabilities, serverInfo, instructions).
    pub(crate) initialized: Option<Value>,
}

fn key(caller: &Caller) -> String {
    format!(
        "bridge:{{{}}}:{}:{}",
        caller.tenant, caller.server.id, caller.grant_id
    )
}

/// Whether a modern request from `caller` must be bridged: the server was discovered
/// speaking a handshake version only.
pub(crate) fn needed(caller: &Caller) -> bool {
    caller
        .server
        .protocol_version
        .as_deref()
        .is_some_and(|version| mcpgate_mcp::HANDSHAKE_VERSIONS.contains(&version))
}

/// The upstream session of this grant, initialised now if there is none (or `fresh`).
pub(crate) async fn session(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    capabilities: &Value,
    fresh: bool,
) -> Result<Bridged, UpstreamFailure> {
    let mut redis = state.redis.connection();
    if !fresh {
        let stored: Option<String> = redis::cmd("GET")
            .arg(key(caller))
            .query_async(&mut redis)
            .await
            .ok()
            .flatten();
        let opened = stored.and_then(|stored| {
            let (version, sealed) = stored.split_once(' ')?;
            let session =
                session::open(&state.secret_key, sealed, caller.grant_id, caller.server.id)?;
            Some((version.to_owned(), session))
        });
        if let Some((version, session)) = opened {
            let _: Result<(), _> = redis::cmd("PEXPIRE")
                .arg(key(caller))
                .arg(millis(SESSION_TTL))
                .query_async(&mut redis)
                .await;
            return Ok(Bridged {
                session,
                version,
                initialized: None,
            });
        }
    }
    let bridged = initialize(state, caller, headers, capabilities).await?;
    let sealed = session::seal(
        &state.secret_key,
        &bridged.session,
        caller.grant_id,
        caller.server.id,
    );
    let stored: Result<(), _> = redis::cmd("SET")
        .arg(key(caller))
        .arg(format!("{} {sealed}", bridged.version))
        .arg("PX")
        .arg(millis(SESSION_TTL))
        .query_async(&mut redis)
        .await;
    if let Err(error) = stored {
        tracing::warn!(%error, "keeping a bridged session failed; the next request opens another");
    }
    Ok(bridged)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The client's headers as the upstream expects them on the bridged session: the
/// negotiated version instead of 2026-07-28.
pub(crate) fn headers(client: &HeaderMap, bridged: &Bridged) -> HeaderMap {
    let mut headers = client.clone();
    if let Ok(version) = HeaderValue::from_str(&bridged.version) {
        headers.insert("mcp-protocol-version", version);
    }
    headers.remove(SESSION_HEADER);
    headers
}

/// `initialize` and `notifications/initialized` upstream, as the client's agent.
async fn initialize(
    state: &AppState,
    caller: &Caller,
    client: &HeaderMap,
    capabilities: &Value,
) -> Result<Bridged, UpstreamFailure> {
    let version = mcpgate_mcp::HANDSHAKE_VERSIONS[mcpgate_mcp::HANDSHAKE_VERSIONS.len() - 1];
    let body = json!({"jsonrpc": "2.0", "id": "mcpgate-bridge", "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": capabilities,
            "clientInfo": {"name": "mcpgate-bridge", "version": env!("CARGO_PKG_VERSION")}}});
    let mut headers = client.clone();
    headers.remove("mcp-protocol-version");
    headers.remove("mcp-method");
    headers.remove("mcp-name");
    let refused = |reason: String| {
        UpstreamFailure::Refused(format!(
        "the upstream speaks only the handshake era and could not be initialised for this client: {reason}"
    ))
    };
    let sent = relay::send(
        state,
        caller,
        Method::POST,
        &headers,
        None,
        Some(Bytes::from(body.to_string())),
    )
    .await?;
    let response = sent.response;
    if !response.status().is_success() {
        return Err(refused(format!(
            "initialize answered HTTP {}",
            response.status()
        )));
    }
    let session = response
        .headers()
        .get(SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| refused("initialize answered without a session id".into()))?;
    let event_stream = relay::is_event_stream(response.headers());
    let bytes = relay::read_capped(response, state.settings.max_upstream_message_bytes)
        .await
        .map_err(|failure| refused(failure.to_string()))?;
    let result = initialize_result(&bytes, event_stream)
        .ok_or_else(|| refused("initialize answered no result".into()))?;
    let negotiated = result["protocolVersion"]
        .as_str()
        .unwrap_or(version)
        .to_owned();
    let mut headers = headers;
    if let Ok(value) = HeaderValue::from_str(&negotiated) {
        headers.insert("mcp-protocol-version", value);
    }
    let initialized = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    relay::send(
        state,
        caller,
        Method::POST,
        &headers,
        Some(&session),
        Some(Bytes::from_static(initialized)),
    )
    .await?;
    Ok(Bridged {
        session,
        version: negotiated,
        initialized: Some(result),
    })
}

/// The `result` of the `initialize` answer, as JSON or the response event of an SSE body.
fn initialize_result(body: &[u8], event_stream: bool) -> Option<Value> {
    let result_of = |data: &[u8]| -> Option<Value> {
        let Ok(Incoming::Single(message)) = mcpgate_mcp::parse(data) else {
            return None;
        };
        if message.kind() != Kind::Response {
            return None;
        }
        serde_json::from_str(message.result()?.get()).ok()
    };
    if !event_stream {
        return result_of(body);
    }
    let mut parser = SseParser::new();
    parser.push(body).ok()?;
    parser.finish();
    while let Some(event) = parser.next_event() {
        if let Some(result) = event.data().and_then(|data| result_of(data.as_bytes())) {
            return Some(result);
        }
    }
    None
}

/// The proxy's own `server/discover` answer for a bridged upstream, from its `initialize`
/// result: the one modern version the proxy speaks for it.
pub(crate) fn discover_result(initialized: &Value) -> Value {
    let mut result = json!({
        "supportedVersions": [mcpgate_mcp::MODERN_VERSION],
        "capabilities": initialized.get("capabilities").cloned().unwrap_or_else(|| json!({})),
        "ttlMs": 0,
        "cacheScope": "private",
        "resultType": "complete",
    });
    if let Some(instructions) = initialized.get("instructions") {
        result["instructions"] = instructions.clone();
    }
    if let Some(info) = initialized.get("serverInfo") {
        result["_meta"] = json!({"io.modelcontextprotocol/serverInfo": info});
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_initialize_result_is_read_from_json_or_sse() {
        let json = br#"{"jsonrpc":"2.0","id":"mcpgate-bridge","result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}}}}"#;
        assert_eq!(
            initialize_result(json, false).unwrap()["protocolVersion"],
            "2025-06-18"
        );
        let mut sse = b"event: message\ndata: ".to_vec();
        sse.extend_from_slice(json);
        sse.extend_from_slice(b"\n\n");
        assert_eq!(
            initialize_result(&sse, true).unwrap()["capabilities"],
            json!({"tools": {}})
        );
        assert!(initialize_result(b"{}", false).is_none());
    }

    #[test]
    fn the_discover_answer_carries_the_upstreams_capabilities_and_name() {
        let initialized = json!({"protocolVersion": "2025-06-18",
            "capabilities": {"tools": {"listChanged": true}},
            "serverInfo": {"name": "old", "version": "1"}, "instructions": "be nice"});
        let result = discover_result(&initialized);
        assert_eq!(result["supportedVersions"], json!(["2026-07-28"]));
        assert_eq!(
            result["capabilities"],
            json!({"tools": {"listChanged": true}})
        );
        assert_eq!(
            result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
            "old"
        );
        assert_eq!(result["instructions"], "be nice");
        assert_eq!(result["resultType"], "complete");
    }
}
