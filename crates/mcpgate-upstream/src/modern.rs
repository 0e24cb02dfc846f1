//! Discovery in the 2026-07-28 era: a `server/discover` probe, then `tools/list`
//! pages as self-contained requests (no `initialize`, no session).
//!
//! The probe decides the era the way the Python SDK's `mode="auto"` client does
//! (`mcp/client/_probe.py`): only a `DiscoverResult` that lists 2026-07-28 is modern
//! evidence. Every JSON-RPC error, a 4xx or 5xx without one, an answer that is not
//! JSON-RPC, and a result without the version fall back to the handshake. The one
//! exception is `-32022` naming only versions mcpgate does not speak: the server is
//! modern and incompatible, and the handshake would only hide why. Network failures,
//! refused addresses and 401/403 are not era evidence: they end discovery as before.

use reqwest::{Response, Url};
use serde::Deserialize;

use crate::discover::{
    client_capabilities, client_info, parse_page, too_many_pages, DiscoveredTool, Discovery,
};
use mcpgate_mcp::{HANDSHAKE_VERSIONS, MODERN_VERSION as MODERN_PROTOCOL_VERSION};

use crate::error::DiscoveryError;
use crate::rpc::{check_status, content_type, not_mcp, EventStream, Reply, Rpc, RpcError};
use crate::{Era, Transport};

/// The probe's method.
const PROBE: &str = "server/discover";

/// `-32022` UnsupportedProtocolVersion (2026-07-28, `basic/index.mdx`).
const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// What the probe concluded.
#[derive(Debug)]
pub(crate) enum Probe {
    /// The server speaks 2026-07-28.
    Modern(Discovered),
    /// Not modern evidence: use the handshake. `refusal` keeps a 2026-era error
    /// (`-32020..=-32022`) the server gave, to explain a handshake that fails too.
    Handshake { refusal: Option<DiscoveryError> },
}

/// What `server/discover` told.
#[derive(Debug)]
pub(crate) struct Discovered {
    server_info: serde_json::Value,
    instructions: Option<String>,
}

#[derive(Deserialize)]
struct DiscoverResult {
    #[serde(rename = "supportedVersions")]
    supported_versions: Vec<String>,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(rename = "_meta", default)]
    meta: Option<ResultMeta>,
}

#[derive(Deserialize)]
struct ResultMeta {
    #[serde(rename = "io.modelcontextprotocol/serverInfo", default)]
    server_info: serde_json::Value,
}

/// The answer to one modern request, before it is judged.
enum Answer {
    Reply(Reply),
    /// Not a JSON-RPC answer to this request (a page, an empty 4xx, a stray message).
    Other {
        status: u16,
    },
}

/// A 2026-07-28 request: `params` with the envelope in `_meta`.
pub(crate) fn request_body(
    id: u64,
    method: &str,
    mut params: serde_json::Map<String, serde_json::Value>,
) -> String {
    params.insert(
        "_meta".into(),
        serde_json::json!({
            "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
            "io.modelcontextprotocol/clientCapabilities": client_capabilities(),
            "io.modelcontextprotocol/clientInfo": client_info(),
        }),
    );
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
        .to_string()
}

/// Sends `server/discover` and tells which era to use.
pub(crate) async fn probe(rpc: &Rpc, url: &Url) -> Result<Probe, DiscoveryError> {
    const METHOD: &str = PROBE;
    let id = rpc.next_id();
    let response = rpc
        .post_modern(
            url,
            METHOD,
            request_body(id, METHOD, serde_json::Map::new()),
        )
        .await?;
    let handshake = Probe::Handshake { refusal: None };
    let error = match answer(rpc, url, METHOD, id, response).await? {
        Answer::Other { .. } => return Ok(handshake),
        Answer::Reply(Reply::Result(result)) => {
            return Ok(match serde_json::from_str::<DiscoverResult>(result.get()) {
                Ok(found)
                    if found
                        .supported_versions
                        .iter()
                        .any(|v| v == MODERN_PROTOCOL_VERSION) =>
                {
                    Probe::Modern(Discovered {
                        server_info: found.meta.map(|m| m.server_info).unwrap_or_default(),
                        instructions: found.instructions,
                    })
                }
                // A result without the version (go-sdk's stateful default lists only
                // handshake versions) or that does not parse is no modern evidence.
                _ => handshake,
            });
        }
        Answer::Reply(Reply::Error(error)) => error,
    };
    if error.code == Some(UNSUPPORTED_PROTOCOL_VERSION) {
        if let Some(supported) = supported_versions(&error) {
            if !speaks_any(&supported) {
                return Err(DiscoveryError::UnsupportedVersion {
                    url: url.to_string(),
                    supported,
                });
            }
        }
    }
    let modern_code = error.code.is_some_and(|c| (-32022..=-32020).contains(&c));
    Ok(Probe::Handshake {
        refusal: modern_code.then(|| error.into_protocol(METHOD)),
    })
}

/// Every page of `tools/list`, as modern requests.
pub(crate) async fn discover(
    rpc: &Rpc,
    url: &Url,
    max_pages: usize,
    discovered: Discovered,
) -> Result<Discovery, DiscoveryError> {
    const METHOD: &str = "tools/list";
    let mut tools: Vec<DiscoveredTool> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let id = rpc.next_id();
        let mut params = serde_json::Map::new();
        if let Some(cursor) = cursor.take() {
            params.insert("cursor".into(), cursor.into());
        }
        let response = rpc
            .post_modern(url, METHOD, request_body(id, METHOD, params))
            .await?;
        let result = match answer(rpc, url, METHOD, id, response).await? {
            Answer::Reply(reply) => reply.into_result(METHOD)?,
            Answer::Other { status } => {
                return Err(DiscoveryError::Protocol {
                    method: METHOD.to_owned(),
                    code: None,
                    message: format!("HTTP {status} without a JSON-RPC answer"),
                })
            }
        };
        cursor = parse_page(&result, &mut tools)?;
        if cursor.is_none() {
            return Ok(Discovery {
                server_info: discovered.server_info,
                protocol_version: MODERN_PROTOCOL_VERSION.to_owned(),
                era: Era::Modern,
                instructions: discovered.instructions,
                tools,
                transport: Transport::StreamableHttp,
            });
        }
    }
    Err(too_many_pages(max_pages))
}

/// Reads a modern answer. Modern servers send errors with 4xx statuses and a JSON-RPC
/// body (`-32601` with 404, `-32020` with 400), so the body is read whatever the
/// status; 401 and 403 stay credential problems.
async fn answer(
    rpc: &Rpc,
    url: &Url,
    method: &str,
    id: u64,
    mut response: Response,
) -> Result<Answer, DiscoveryError> {
    let status = response.status().as_u16();
    if status == 401 || status == 403 {
        check_status(url, &response)?;
    }
    let kind = content_type(&response);
    let is = |prefix: &str| kind.as_deref().is_some_and(|t| t.starts_with(prefix));
    if is("application/json") {
        let body = rpc.read_body(url, &mut response).await?;
        // A 2xx answers this request; an error status may carry `"id": null`.
        let expected = response.status().is_success().then_some(id);
        return Ok(match crate::rpc::reply_to(&body, expected) {
            Ok(Some(reply)) => Answer::Reply(reply),
            Ok(None) | Err(_) => Answer::Other { status },
        });
    }
    let probing = method == PROBE;
    if is("text/event-stream") && response.status().is_success() {
        let mut stream = EventStream::new(response, rpc.max_body_bytes);
        return match stream.read_reply(url, method, id).await {
            Ok(reply) => Ok(Answer::Reply(reply)),
            // A stream that ends early or breaks the protocol is no modern evidence.
            Err(DiscoveryError::Protocol { .. }) if probing => Ok(Answer::Other { status }),
            Err(other) => Err(other),
        };
    }
    if response.status().is_success() && !probing {
        return Err(not_mcp(
            url,
            &response,
            "expected application/json or text/event-stream".into(),
        ));
    }
    Ok(Answer::Other { status })
}

/// Whether discovery speaks any of `versions` (a `-32022`'s `data.supported`).
fn speaks_any(versions: &[String]) -> bool {
    versions
        .iter()
        .any(|v| v == MODERN_PROTOCOL_VERSION || HANDSHAKE_VERSIONS.contains(&v.as_str()))
}

/// `data.supported` of a `-32022`, if it is a list of strings.
fn supported_versions(error: &RpcError) -> Option<Vec<String>> {
    let supported = error.data.as_ref()?.get("supported")?;
    serde_json::from_value(supported.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_the_envelope_with_every_capability_discovery_declares() {
        let mut params = serde_json::Map::new();
        params.insert("cursor".into(), "p2".into());
        let body: serde_json::Value =
            serde_json::from_str(&request_body(7, "tools/list", params)).unwrap();
        assert_eq!(body["method"], "tools/list");
        assert_eq!(body["id"], 7);
        assert_eq!(body["params"]["cursor"], "p2");
        let meta = &body["params"]["_meta"];
        assert_eq!(
            meta["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
        let capabilities = &meta["io.modelcontextprotocol/clientCapabilities"];
        for capability in ["sampling", "elicitation", "roots"] {
            assert!(capabilities.get(capability).is_some(), "{capability}");
        }
        assert_eq!(
            meta["io.modelcontextprotocol/clientInfo"]["name"],
            "mcpgate"
        );
    }

    #[test]
    fn only_versions_of_either_era_are_spoken() {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(speaks_any(&owned(&["2027-03-01", "2026-07-28"])));
        assert!(speaks_any(&owned(&["2025-06-18"])));
        assert!(!speaks_any(&owned(&["2027-03-01", "v999.0.0"])));
        assert!(!speaks_any(&[]));
    }

    #[test]
    fn only_a_list_of_strings_is_a_supported_list() {
        let error = |data: serde_json::Value| RpcError {
            code: Some(UNSUPPORTED_PROTOCOL_VERSION),
            message: None,
            data: Some(data),
        };
        assert_eq!(
            supported_versions(&error(serde_json::json!({"supported": ["2027-01-01"]}))),
            Some(vec!["2027-01-01".to_owned()])
        );
        assert_eq!(
            supported_versions(&error(serde_json::json!({"supported": "2027"}))),
            None
        );
        assert_eq!(supported_versions(&error(serde_json::json!(null))), None);
    }
}
