//! Protocol eras and the 2026-07-28 request headers.
//!
//! A request belongs to the **modern** era (2026-07-28 and later: no handshake, no
//! session, every request self-contained) when its `MCP-Protocol-Version` header names
//! anything but a handshake version; absent or a handshake version, it belongs to the
//! **handshake** era (`initialize`, `Mcp-Session-Id`). It is the rule the official SDK
//! servers route by, so a proxy that routes the same way never splits a request.
//!
//! Modern requests mirror their body in headers (`Mcp-Method`, `Mcp-Name`), which
//! routers may act on: a proxy that decides on the body must refuse a header that says
//! something else (`-32020`, HTTP 400), or one component would see another request than
//! the other.

use std::borrow::Cow;

use base64::Engine as _;
use serde::Deserialize;

use crate::envelope::{Kind, Message};

/// The modern protocol revision this crate knows.
pub const MODERN_VERSION: &str = "2026-07-28";

/// Revisions negotiated by `initialize`.
pub const HANDSHAKE_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// JSON-RPC code: a mirrored header disagrees with the body (or is missing).
pub const HEADER_MISMATCH: i64 = -32020;

/// Which era a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize`, sessions, the GET stream (2025-11-25 and earlier).
    Handshake,
    /// Per-request protocol version and capabilities, stateless (2026-07-28 and later).
    Modern,
}

impl Era {
    /// The era of a request whose `MCP-Protocol-Version` header is `version`.
    pub fn of(version: Option<&str>) -> Era {
        match version.map(str::trim) {
            None => Era::Handshake,
            Some(version) if HANDSHAKE_VERSIONS.contains(&version) => Era::Handshake,
            Some(_) => Era::Modern,
        }
    }
}

/// The mirrored headers of one request, as the client sent them (`None`: absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Mirrors<'a> {
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<&'a str>,
    /// `Mcp-Method`.
    pub method: Option<&'a str>,
    /// `Mcp-Name`.
    pub name: Option<&'a str>,
    /// The first mirrored header sent more than once, if any.
    pub repeated: Option<&'static str>,
}

/// Why a request's headers do not mirror its body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HeaderMismatch(pub String);

/// The methods whose request names a target in `Mcp-Name`, and the param it mirrors.
fn named_param(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "taskId")]
    task_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<Meta<'a>>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(borrow, default, rename = "io.modelcontextprotocol/protocolVersion")]
    protocol_version: Option<Cow<'a, str>>,
}

/// Checks the mirrored headers of a request against its body. In the modern era the
/// headers are required (`Mcp-Method` on every request, `Mcp-Name` where the method names
/// a target); in either era a header that is present must agree. Responses and
/// notifications carry no mirrors.
pub fn check_mirrors(
    message: &Message<'_>,
    era: Era,
    mirrors: Mirrors<'_>,
) -> Result<(), HeaderMismatch> {
    let mismatch = |text: String| Err(HeaderMismatch(text));
    if message.kind() != Kind::Request {
        return Ok(());
    }
    if let Some(header) = mirrors.repeated {
        return mismatch(format!("the {header} header appears more than once"));
    }
    let Some(method) = message.method() else {
        return Ok(());
    };
    match (mirrors.method.map(str::trim), era) {
        (Some(sent), _) if sent != method => {
            return mismatch(format!(
                "Header mismatch: Mcp-Method header value '{sent}' does not match body value '{method}'"
            ))
        }
        (None, Era::Modern) => return mismatch("the Mcp-Method header is required".into()),
        _ => {}
    }
    let params: Option<Params<'_>> = message
        .params()
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    if let (Some(sent), Some(meta)) = (
        mirrors.protocol_version.map(str::trim),
        params.as_ref().and_then(|p| p.meta.as_ref()),
    ) {
        if let Some(version) = meta.protocol_version.as_deref() {
            if era == Era::Modern && sent != version {
                return mismatch(format!(
                    "Header mismatch: MCP-Protocol-Version header value '{sent}' does not match body value '{version}'"
                ));
            }
        }
    }
    let Some(field) = named_param(method) else {
        return Ok(());
    };
    let body_value = params.as_ref().and_then(|p| match field {
        "name" => p.name.as_deref(),
        "uri" => p.uri.as_deref(),
        _ => p.task_id.as_deref(),
    });
    match (mirrors.name.map(str::trim), era) {
        (Some(sent), _) => {
            let Some(decoded) = decode_header_value(sent) else {
                return mismatch(format!(
                    "the Mcp-Name header value '{sent}' is not validly encoded"
                ));
            };
            if Some(decoded.as_ref()) != body_value {
                return mismatch(format!(
                    "Header mismatch: Mcp-Name header value '{decoded}' does not match body value '{}'",
                    body_value.unwrap_or_default()
                ));
            }
            Ok(())
        }
        (None, Era::Modern) => mismatch(format!("the Mcp-Name header is required for {method}")),
        (None, Era::Handshake) => Ok(()),
    }
}

/// A header value as the 2026-07-28 transport encodes it: as is, or
/// `=?base64?<base64 of UTF-8>?=` for values that are not plain visible ASCII.
/// `None` when the sentinel form does not decode to UTF-8.
pub fn decode_header_value(value: &str) -> Option<Cow<'_, str>> {
    let Some(encoded) = value
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    else {
        return Some(Cow::Borrowed(value));
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(bytes).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> Message<'_> {
        match crate::parse(body.as_bytes()).unwrap() {
            crate::Incoming::Single(message) => message,
            crate::Incoming::Batch(_) => panic!("a single message"),
        }
    }

    const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

    fn modern<'a>(method: Option<&'a str>, name: Option<&'a str>) -> Mirrors<'a> {
        Mirrors {
            protocol_version: Some("2026-07-28"),
            method,
            name,
            repeated: None,
        }
    }

    #[test]
    fn the_era_follows_the_protocol_version_header() {
        assert_eq!(Era::of(None), Era::Handshake);
        assert_eq!(Era::of(Some("2025-11-25")), Era::Handshake);
        assert_eq!(Era::of(Some("2024-11-05")), Era::Handshake);
        assert_eq!(Era::of(Some("2026-07-28")), Era::Modern);
        assert_eq!(Era::of(Some("v999.0.0")), Era::Modern);
    }

    #[test]
    fn matching_headers_pass_and_any_disagreement_is_a_mismatch() {
        let call = message(CALL);
        let ok = check_mirrors(
            &call,
            Era::Modern,
            modern(Some("tools/call"), Some("get_weather")),
        );
        assert_eq!(ok, Ok(()));
        let padded = check_mirrors(
            &call,
            Era::Modern,
            modern(Some("tools/call"), Some(" get_weather ")),
        );
        assert_eq!(
            padded,
            Ok(()),
            "optional whitespace is not part of the value"
        );
        for (method, name) in [
            (Some("tools/list"), Some("get_weather")),
            (Some("Tools/Call"), Some("get_weather")),
            (Some("tools/call"), Some("delete_everything")),
            (None, Some("get_weather")),
            (Some("tools/call"), None),
        ] {
            let checked = check_mirrors(&call, Era::Modern, modern(method, name));
            assert!(checked.is_err(), "{method:?} {name:?}");
        }
        let version = Mirrors {
            protocol_version: Some("2099-01-01"),
            ..modern(Some("tools/call"), Some("get_weather"))
        };
        assert!(check_mirrors(&call, Era::Modern, version).is_err());
        let repeated = Mirrors {
            repeated: Some("Mcp-Name"),
            ..modern(Some("tools/call"), Some("get_weather"))
        };
        assert!(check_mirrors(&call, Era::Modern, repeated).is_err());
    }

    #[test]
    fn base64_names_are_decoded_before_they_are_compared() {
        let call = message(
            r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"Hello, 世界"}}"#,
        );
        let encoded = "=?base64?SGVsbG8sIOS4lueVjA==?=";
        assert_eq!(
            check_mirrors(
                &call,
                Era::Modern,
                modern(Some("prompts/get"), Some(encoded))
            ),
            Ok(())
        );
        assert!(check_mirrors(
            &call,
            Era::Modern,
            modern(Some("prompts/get"), Some("=?base64?!!?="))
        )
        .is_err());
    }

    #[test]
    fn handshake_requests_need_no_mirrors_but_a_present_one_must_agree() {
        let call = message(CALL);
        assert_eq!(
            check_mirrors(&call, Era::Handshake, Mirrors::default()),
            Ok(())
        );
        let wrong = Mirrors {
            name: Some("other_tool"),
            ..Mirrors::default()
        };
        assert!(check_mirrors(&call, Era::Handshake, wrong).is_err());
    }

    #[test]
    fn resources_and_tasks_mirror_their_uri_and_task_id() {
        let read = message(
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://static-text"}}"#,
        );
        assert_eq!(
            check_mirrors(
                &read,
                Era::Modern,
                modern(Some("resources/read"), Some("test://static-text"))
            ),
            Ok(())
        );
        let task =
            message(r#"{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"taskId":"t-1"}}"#);
        assert!(check_mirrors(&task, Era::Modern, modern(Some("tasks/get"), Some("t-2"))).is_err());
        let discover =
            message(r#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#);
        assert_eq!(
            check_mirrors(
                &discover,
                Era::Modern,
                modern(Some("server/discover"), None)
            ),
            Ok(())
        );
    }
}
