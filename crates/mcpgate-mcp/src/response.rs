//! Responses the proxy writes itself, with the caller's id echoed byte-for-byte.

use serde_json::value::RawValue;

/// JSON-RPC: invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: the JSON sent is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: the method does not exist or is not available.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: invalid method parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC: internal error.
pub const INTERNAL_ERROR: i64 = -32603;

/// `{"jsonrpc":"2.0","id":<id>,"error":{"code":..,"message":..,"data"?:..}}`.
///
/// `id` is written exactly as received; `None` writes `null` (for bodies whose id
/// could not be read, as JSON-RPC asks).
pub fn error_response(
    id: Option<&RawValue>,
    code: i64,
    message: &str,
    data: Option<&serde_json::Value>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + message.len());
    write_head(&mut out, id);
    out.extend_from_slice(b",\"error\":{\"code\":");
    out.extend_from_slice(code.to_string().as_bytes());
    out.extend_from_slice(b",\"message\":");
    write_json(&mut out, message);
    if let Some(data) = data {
        out.extend_from_slice(b",\"data\":");
        write_json(&mut out, data);
    }
    out.extend_from_slice(b"}}");
    out
}

/// A `tools/call` result that reports a tool error to the model:
/// `{"jsonrpc":"2.0","id":<id>,"result":{"content":[{"type":"text","text":..}],"isError":true,"structuredContent"?:..}}`.
///
/// Clients show this to the model as the tool's answer, where a JSON-RPC error
/// would abort the call (see MCP-NOTES "How clients take a refusal").
pub fn tool_error_result(id: &RawValue, text: &str, shape: &ToolErrorShape<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + text.len());
    write_head(&mut out, Some(id));
    out.extend_from_slice(b",\"result\":{");
    if shape.result_type {
        out.extend_from_slice(b"\"resultType\":\"complete\",");
    }
    out.extend_from_slice(b"\"content\":[{\"type\":\"text\",\"text\":");
    write_json(&mut out, text);
    out.extend_from_slice(b"}],\"isError\":true");
    if let Some(structured) = shape.structured_content {
        out.extend_from_slice(b",\"structuredContent\":");
        write_json(&mut out, structured);
    }
    if let Some(meta) = shape.meta {
        out.extend_from_slice(b",\"_meta\":");
        write_json(&mut out, meta);
    }
    out.extend_from_slice(b"}}");
    out
}

/// What a [`tool_error_result`] carries besides its text.
#[derive(Debug, Clone, Copy, Default)]
pub struct ToolErrorShape<'a> {
    /// `structuredContent`: only for tools without an `outputSchema`, since clients check
    /// structured content against the schema even on errors.
    pub structured_content: Option<&'a serde_json::Value>,
    /// `_meta`, for details a client may read whatever the tool's schema.
    pub meta: Option<&'a serde_json::Value>,
    /// `resultType: "complete"`, which results of the 2026-07-28 revision must carry.
    pub result_type: bool,
}

fn write_head(out: &mut Vec<u8>, id: Option<&RawValue>) {
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    out.extend_from_slice(id.map_or("null", RawValue::get).as_bytes());
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serialising a str or a Value into a Vec cannot fail.
    serde_json::to_writer(&mut *out, value).expect("JSON serialisation into memory");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn error_response_echoes_the_id_byte_for_byte() {
        for id in ["0", "\"a\\u0062c\"", "1.0", "-7", "1e3"] {
            let body = error_response(Some(&raw(id)), -32600, "nope \"quoted\"", None);
            let text = String::from_utf8(body).unwrap();
            assert_eq!(
                text,
                format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32600,"message":"nope \"quoted\""}}}}"#
                )
            );
            let _: serde_json::Value = serde_json::from_str(&text).unwrap();
        }
    }

    #[test]
    fn error_response_without_id_and_with_data() {
        let data = serde_json::json!({"rule": "deny-delete"});
        let body = error_response(None, PARSE_ERROR, "bad", Some(&data));
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":{"rule":"deny-delete"}}}"#
        );
    }

    #[test]
    fn a_modern_tool_error_says_it_is_complete_and_can_carry_meta_instead_of_structure() {
        let meta = serde_json::json!({"kind": "rate_limit"});
        let shape = ToolErrorShape {
            meta: Some(&meta),
            result_type: true,
            ..ToolErrorShape::default()
        };
        let body: serde_json::Value =
            serde_json::from_slice(&tool_error_result(&raw("1"), "denied", &shape)).unwrap();
        assert_eq!(body["result"]["resultType"], "complete");
        assert_eq!(body["result"]["isError"], true);
        assert_eq!(body["result"]["_meta"]["kind"], "rate_limit");
        assert!(body["result"].get("structuredContent").is_none());
    }

    #[test]
    fn tool_error_result_shapes() {
        let body = tool_error_result(
            &raw("\"x\""),
            "denied\nby policy",
            &ToolErrorShape::default(),
        );
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"jsonrpc":"2.0","id":"x","result":{"content":[{"type":"text","text":"denied\nby policy"}],"isError":true}}"#
        );
        let structured = serde_json::json!({"reason": "policy"});
        let shape = ToolErrorShape {
            structured_content: Some(&structured),
            ..ToolErrorShape::default()
        };
        let body = tool_error_result(&raw("3"), "denied", &shape);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["result"]["structuredContent"]["reason"], "policy");
        assert_eq!(value["result"]["isError"], true);
        assert_eq!(value["id"], 3);
    }
}
