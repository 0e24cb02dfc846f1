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
pub fn tool_error_result(
    id: &RawValue,
    text: &str,
    structured_content: Option<&serde_json::Value>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + text.len());
    write_head(&mut out, Some(id));
    out.extend_from_slice(b",\"result\":{\"content\":[{\"type\":\"text\",\"text\":");
    write_json(&mut out, text);
    out.extend_from_slice(b"}],\"isError\":true");
    if let Some(structured) = structured_content {
        out.extend_from_slice(b",\"structuredContent\":");
        write_json(&mut out, structured);
    }
    out.extend_from_slice(b"}}");
    out
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
    fn tool_error_result_shapes() {
        let body = tool_error_result(&raw("\"x\""), "denied\nby policy", None);
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"jsonrpc":"2.0","id":"x","result":{"content":[{"type":"text","text":"denied\nby policy"}],"isError":true}}"#
        );
        let structured = serde_json::json!({"reason": "policy"});
        let body = tool_error_result(&raw("3"), "denied", Some(&structured));
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["result"]["structuredContent"]["reason"], "policy");
        assert_eq!(value["result"]["isError"], true);
        assert_eq!(value["id"], 3);
    }
}
