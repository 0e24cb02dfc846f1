//! The checks a modern request passes before it is answered, in the Python SDK's
//! order: (1) the `_meta` envelope, (2) the mirrored headers, (3) the version.

use axum::http::HeaderMap;
use mcpgate_mcp::{Incoming, Kind, Message, INVALID_REQUEST};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::error::{ModernError, UNSUPPORTED_PROTOCOL_VERSION};
use super::headers;
use crate::era::MODERN_VERSIONS;

pub(crate) const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
pub(crate) const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";

/// A modern request that passed the ladder.
#[derive(Debug)]
pub(crate) struct Envelope<'m> {
    pub(crate) id: &'m RawValue,
    pub(crate) method: &'m str,
    pub(crate) message: &'m Message<'m>,
    /// `params`, parsed (read only; raw params stay on `message` for verbatim parts).
    pub(crate) params: Map<String, Value>,
}

impl Envelope<'_> {
    pub(crate) fn str_param(&self, key: &str) -> Option<&str> {
        self.params.get(key).and_then(Value::as_str)
    }

    fn capabilities(&self) -> Option<&Map<String, Value>> {
        self.params
            .get("_meta")
            .and_then(|meta| meta.get(CLIENT_CAPABILITIES_KEY))
            .and_then(Value::as_object)
    }

    /// Whether this request's `clientCapabilities` declare `capability`.
    pub(crate) fn declares(&self, capability: &str) -> bool {
        self.capabilities()
            .and_then(|caps| caps.get(capability))
            .is_some_and(Value::is_object)
    }

    /// Whether this request's `clientCapabilities.extensions` declare `extension`.
    pub(crate) fn declares_extension(&self, extension: &str) -> bool {
        self.capabilities()
            .and_then(|caps| caps.get("extensions"))
            .and_then(|extensions| extensions.get(extension))
            .is_some_and(Value::is_object)
    }
}

/// A modern body is one request or notification: no batch, no client response.
pub(crate) fn single<'m>(incoming: &'m Incoming<'m>) -> Result<&'m Message<'m>, ModernError> {
    match incoming {
        Incoming::Single(message) if message.kind() != Kind::Response => Ok(message),
        _ => Err(ModernError::new(
            INVALID_REQUEST,
            "Body must be a single JSON-RPC request or notification object",
        )),
    }
}

/// A notification is accepted if its version header names a served version.
pub(crate) fn notification(headers: &HeaderMap) -> Result<(), ModernError> {
    let version = headers::single(headers, "MCP-Protocol-Version")?.unwrap_or_default();
    supported(&version)
}

pub(crate) fn envelope<'m>(
    message: &'m Message<'m>,
    headers: &HeaderMap,
) -> Result<Envelope<'m>, ModernError> {
    let id = message
        .id()
        .expect("only requests reach the envelope check");
    let method = message.method().unwrap_or_default();
    let params = message
        .params()
        .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
        .and_then(|value| match value {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    let meta = params.get("_meta").and_then(Value::as_object);
    let version = meta
        .and_then(|m| m.get(PROTOCOL_VERSION_KEY))
        .and_then(Value::as_str);
    let capabilities = meta
        .and_then(|m| m.get(CLIENT_CAPABILITIES_KEY))
        .filter(|c| c.is_object());
    let (Some(version), Some(_)) = (version, capabilities) else {
        return Err(ModernError::invalid_params(format!(
            "params._meta must carry {PROTOCOL_VERSION_KEY} and {CLIENT_CAPABILITIES_KEY}"
        )));
    };
    let version = version.to_owned();

    mirrored(headers, "MCP-Protocol-Version", Some(&version))?;
    mirrored(headers, "Mcp-Method", Some(method))?;
    if let Some(field) = named_by(method) {
        let body = params.get(field).and_then(Value::as_str).map(str::to_owned);
        named(headers, field, body.as_deref())?;
    }
    supported(&version)?;
    Ok(Envelope {
        id,
        method,
        message,
        params,
    })
}

/// The params field `Mcp-Name` mirrors for a method (tasks: EXT "Routing Headers").
fn named_by(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    }
}

/// A header that must be present and equal to the body's value (values case-sensitive).
fn mirrored(headers: &HeaderMap, name: &str, body: Option<&str>) -> Result<(), ModernError> {
    let header = headers::single(headers, name)?;
    compare(name, header.as_deref(), body)
}

fn named(headers: &HeaderMap, field: &str, body: Option<&str>) -> Result<(), ModernError> {
    let name = "Mcp-Name";
    let header = headers::single(headers, name)?
        .map(|value| headers::decoded(name, value))
        .transpose()?;
    match (header.as_deref(), body) {
        // Neither: the method's own params check answers -32602.
        (None, None) => Ok(()),
        (Some(header), None) => Err(ModernError::header_mismatch(format!(
            "Header mismatch: {name} header value '{header}' does not match body value: params.{field} is absent"
        ))),
        (header, body) => compare(name, header, body),
    }
}

fn compare(name: &str, header: Option<&str>, body: Option<&str>) -> Result<(), ModernError> {
    match header {
        None => Err(ModernError::header_mismatch(format!(
            "Header mismatch: {name} header is missing"
        ))),
        Some(header) if Some(header) == body => Ok(()),
        Some(header) => Err(ModernError::header_mismatch(format!(
            "Header mismatch: {name} header value '{header}' does not match body value '{}'",
            body.unwrap_or_default()
        ))),
    }
}

fn supported(version: &str) -> Result<(), ModernError> {
    if MODERN_VERSIONS.contains(&version) {
        return Ok(());
    }
    Err(
        ModernError::new(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version")
            .with_data(json!({ "supported": MODERN_VERSIONS, "requested": version })),
    )
}
