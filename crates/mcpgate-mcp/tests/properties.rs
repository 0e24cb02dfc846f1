use mcpgate_mcp::sse::{SseEvent, SseParser};
use proptest::prelude::*;

fn parse_in_chunks(input: &[u8], cuts: &[usize]) -> (Vec<SseEvent>, Option<bytes::Bytes>) {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    for cut in cuts.into_iter().chain([input.len()]) {
        parser.push(&input[start..cut]).unwrap();
        events.extend(std::iter::from_fn(|| parser.next_event()));
        start = cut;
    }
    let rest = parser.finish();
    events.extend(std::iter::from_fn(|| parser.next_event()));
    (events, rest)
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,8}".prop_map(|v| format!("data:{v}")),
        "[a-z0-9]{0,4}".prop_map(|v| format!("data: {v}")),
        Just("data".to_owned()),
        "[a-z]{0,6}".prop_map(|v| format!("event: {v}")),
        "[0-9a-z]{0,4}".prop_map(|v| format!("id: {v}")),
        "[0-9]{1,4}".prop_map(|v| format!("retry: {v}")),
        "[ a-z-]{0,10}".prop_map(|v| format!(":{v}")),
        Just("data: é✓".to_owned()),
        Just(String::new()),
    ]
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    let terminator = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    (
        any::<bool>(),
        prop::collection::vec((line(), terminator), 0..30),
    )
        .prop_map(|(bom, lines)| {
            let mut out = if bom {
                b"\xEF\xBB\xBF".to_vec()
            } else {
                Vec::new()
            };
            for (line, terminator) in lines {
                out.extend_from_slice(line.as_bytes());
                out.extend_from_slice(terminator.as_bytes());
            }
            out
        })
}

proptest! {
    #[test]
    fn sse_frames_do_not_depend_on_chunking(input in stream(), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let (whole, whole_rest) = parse_in_chunks(&input, &[]);
        let (split, split_rest) = parse_in_chunks(&input, &cuts);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(&whole_rest, &split_rest);
        // Every byte belongs to exactly one frame: relaying frames reproduces the stream.
        let mut relayed: Vec<u8> = whole.iter().flat_map(|e| e.raw().to_vec()).collect();
        relayed.extend_from_slice(whole_rest.as_deref().unwrap_or_default());
        prop_assert_eq!(relayed, input);
    }

    #[test]
    fn encoded_data_parses_back(data in "[a-z \r\n{}\":é]{0,40}", id in "[a-z0-9]{0,5}") {
        let bytes = mcpgate_mcp::sse::message_event(&data, Some(&id));
        let (events, rest) = parse_in_chunks(&bytes, &[]);
        prop_assert!(rest.is_none());
        prop_assert_eq!(events.len(), 1);
        let expected = data.replace("\r\n", "\n").replace('\r', "\n");
        prop_assert_eq!(events[0].data(), Some(expected.as_str()));
        prop_assert_eq!(events[0].id(), Some(id.as_str()));
    }

    #[test]
    fn tools_list_filter_keeps_entries_byte_identical(
        tools in prop::collection::vec(tool(), 0..12),
        ws in prop::collection::vec("[ \n\t]{0,2}", 4),
        drop_mask in any::<u16>(),
    ) {
        let body = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{{{}\"tools\":{}[{}]{},\"nextCursor\":\"c\"}}}}",
            ws[0], ws[1], tools.join(&format!(",{}", ws[2])), ws[3],
        );
        let all = mcpgate_mcp::filter_tools_list(body.as_bytes(), |_, _| true).unwrap();
        prop_assert_eq!(&all, body.as_bytes());

        let mut index = 0;
        let mut keep = |_: &str, _: &serde_json::value::RawValue| { index += 1; drop_mask & (1 << (index - 1)) == 0 };
        let filtered = mcpgate_mcp::filter_tools_list(body.as_bytes(), &mut keep).unwrap();
        let filtered = String::from_utf8(filtered).unwrap();
        let expected: Vec<&String> = tools
            .iter()
            .enumerate()
            .filter(|(i, _)| drop_mask & (1 << i) == 0)
            .map(|(_, t)| t)
            .collect();
        for tool in &expected {
            prop_assert!(filtered.contains(tool.as_str()));
        }
        let value: serde_json::Value = serde_json::from_str(&filtered).unwrap();
        prop_assert_eq!(value["result"]["tools"].as_array().unwrap().len(), expected.len());
        prop_assert_eq!(&value["result"]["nextCursor"], "c");
    }
}

/// A tool entry written with odd but valid formatting, escapes and nested schemas.
fn tool() -> impl Strategy<Value = String> {
    ("[a-z_]{1,8}", "[ \n]{0,2}", "[a-zé\\\\\"]{0,10}", any::<bool>()).prop_map(|(name, ws, description, extra)| {
        let description = description.replace('\\', "\\\\").replace('"', "\\\"");
        let schema = if extra {
            r##"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,"$defs":{"a":{"type":["string","null"]}},"properties":{"x":{"$ref":"#/$defs/a","default":1.50}}}"##
        } else {
            r#"{"type":"object"}"#
        };
        format!(r#"{{{ws}"name" :"{name}",{ws}"description":"{description}","inputSchema":{schema}{ws}}}"#)
    })
}
