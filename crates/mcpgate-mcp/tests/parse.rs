use mcpgate_mcp::{parse, Incoming, Kind, ParseError};

fn single(body: &str) -> mcpgate_mcp::Message<'_> {
    match parse(body.as_bytes()).unwrap() {
        Incoming::Single(message) => message,
        Incoming::Batch(_) => panic!("expected a single message"),
    }
}

fn code(body: &[u8]) -> i64 {
    parse(body).unwrap_err().code()
}

#[test]
fn a_tools_call_request_gives_its_raw_id_name_and_arguments() {
    let body = r#" {"jsonrpc":"2.0","id":0,"method":"tools/call","params":{"name":"k8s_delete","arguments":{"ns":"prod","n":[1,{"a":null}]}}} "#;
    let message = single(body);
    assert_eq!(message.kind(), Kind::Request);
    assert_eq!(message.id().unwrap().get(), "0");
    assert_eq!(message.method(), Some("tools/call"));
    let call = message.tool_call().unwrap().unwrap();
    assert_eq!(call.name, "k8s_delete");
    assert_eq!(
        call.arguments,
        serde_json::json!({"ns":"prod","n":[1,{"a":null}]})
    );
}

#[test]
fn ids_are_never_normalised() {
    for id in ["0", "-0", "\"1\"", "\"\\u0041\"", "12345678901234567890123"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
        assert_eq!(single(&body).id().unwrap().get(), id);
    }
    // Responses carry ids the other side chose: kept as written too.
    for id in ["1.0", "1e2"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#);
        assert_eq!(single(&body).id().unwrap().get(), id);
    }
}

#[test]
fn a_request_id_that_is_a_number_but_not_an_integer_is_refused() {
    for id in ["1.0", "1e0", "1E2", "-0.0", "2.5"] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"t"}}}}"#
        );
        match mcpgate_mcp::parse(body.as_bytes()) {
            Err(ParseError::InvalidRequest(reason)) => {
                assert!(reason.contains("string or an integer"), "{reason}");
            }
            other => panic!("id {id}: expected an invalid request, got {other:?}"),
        }
    }
}

#[test]
fn request_ids_compare_by_value() {
    let escaped = single(r#"{"jsonrpc":"2.0","id":"\u0031","method":"ping"}"#);
    let plain = single(r#"{"jsonrpc":"2.0","id":"1","result":{}}"#);
    assert!(escaped.request_id().is_some());
    assert_eq!(escaped.request_id(), plain.request_id());
    let number = single(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    let rewritten = single(r#"{"jsonrpc":"2.0","id":1.0,"result":{}}"#);
    assert!(number.request_id().is_some());
    assert_eq!(number.request_id(), rewritten.request_id());
    assert_ne!(number.request_id(), plain.request_id());
}

#[test]
fn missing_or_null_arguments_are_an_empty_object() {
    for params in [r#"{"name":"t"}"#, r#"{"name":"t","arguments":null}"#] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#);
        let call = single(&body).tool_call().unwrap().unwrap();
        assert_eq!(call.arguments, serde_json::json!({}));
    }
}

#[test]
fn tool_call_params_that_do_not_fit_are_invalid_params() {
    for params in [
        r#"{"arguments":{}}"#,
        r#"{"name":"t","arguments":[1]}"#,
        r#"{"name":7}"#,
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#);
        let error = single(&body).tool_call().unwrap_err();
        assert_eq!(error.code(), -32602, "{params}: {error}");
    }
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#;
    assert_eq!(single(body).tool_call().unwrap_err().code(), -32602);
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    assert!(single(body).tool_call().unwrap().is_none());
}

#[test]
fn an_escaped_method_and_name_are_unescaped() {
    let body =
        r#"{"jsonrpc":"2.0","id":"a","method":"tools\/call","params":{"name":"k8s_\u0064elete"}}"#;
    let message = single(body);
    assert_eq!(message.method(), Some("tools/call"));
    assert_eq!(message.tool_call().unwrap().unwrap().name, "k8s_delete");
}

#[test]
fn notifications_and_responses_are_recognised() {
    let message = single(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert_eq!(message.kind(), Kind::Notification);
    assert!(message.id().is_none());
    let message = single(r#"{"jsonrpc":"2.0","id":"s-1","result":{"action":"accept"}}"#);
    assert_eq!(message.kind(), Kind::Response);
    assert_eq!(message.result().unwrap().get(), r#"{"action":"accept"}"#);
    let message = single(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}"#);
    assert_eq!(message.kind(), Kind::Response);
}

#[test]
fn batches_parse_in_order() {
    let body = br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]"#;
    let Incoming::Batch(messages) = parse(body).unwrap() else {
        panic!("expected a batch")
    };
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].kind(), Kind::Notification);
}

#[test]
fn duplicate_keys_anywhere_make_the_body_ambiguous() {
    let bodies = [
        r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"path":"/tmp","path":"/etc"}}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":[{"q":1,"\u0071":2}]}}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","extra":{"a":1,"a":1}}"#,
        r#"[{"jsonrpc":"2.0","id":1,"method":"m"},{"jsonrpc":"2.0","id":1,"result":{"r":1,"r":2}}]"#,
    ];
    for body in bodies {
        let error = parse(body.as_bytes()).unwrap_err();
        assert!(
            matches!(error, ParseError::Ambiguous { .. }),
            "{body}: {error}"
        );
        assert_eq!(error.code(), -32600);
    }
}

#[test]
fn broken_json_is_a_parse_error() {
    let bodies: [&[u8]; 7] = [
        b"",
        b"{",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} trailing",
        b"\xff\xfe",
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud800"}}"#,
        br#"{"jsonrpc":"2.0","id":"\udc00","method":"ping"}"#,
        br#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,}}"#,
    ];
    for body in bodies {
        assert_eq!(code(body), -32700, "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(parse(b"\xff").unwrap_err(), ParseError::InvalidUtf8);
}

#[test]
fn valid_json_that_is_not_json_rpc_is_an_invalid_request() {
    let bodies = [
        "1",
        "\"x\"",
        "null",
        "[]",
        "[1]",
        "[[]]",
        r#"{"id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
        r#"{"jsonrpc":2.0,"id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":5}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":"x"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","result":{}}"#,
        r#"{"jsonrpc":"2.0","id":1}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":""}}"#,
        r#"{"jsonrpc":"2.0"}"#,
    ];
    for body in bodies {
        let error = parse(body.as_bytes()).unwrap_err();
        assert_eq!(error.code(), -32600, "{body}: {error}");
    }
}
