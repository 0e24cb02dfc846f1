//! Filtering a `tools/list` response without re-serialising the tools kept.
//!
//! Tools carry JSON Schemas (`$schema`, `$defs`, `additionalProperties`, ...) that
//! must reach the client exactly as the upstream wrote them, so the response is
//! rebuilt by splicing the original bytes: only the `tools` array is rewritten, and
//! each kept entry is copied verbatim.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::sse::{SseEvent, SseEventBuilder};

/// Why a `tools/list` response could not be filtered. The proxy should not relay it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The body is not UTF-8.
    #[error("the tools/list response is not valid UTF-8")]
    InvalidUtf8,
    /// The body is not a JSON-RPC response whose `result.tools` is an array.
    #[error("malformed tools/list response: {0}")]
    Malformed(String),
    /// The SSE event has no `data`.
    #[error("the SSE event carries no data")]
    NoData,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    result: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ListResult<'a> {
    #[serde(borrow, default)]
    tools: Option<&'a RawValue>,
    #[serde(borrow, default)]
    prompts: Option<&'a RawValue>,
    #[serde(borrow, default)]
    resources: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "cacheScope")]
    cache_scope: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
}

/// A list result the proxy filters per caller, and what names each of its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `tools/list`: `tools`, by `name`.
    Tools,
    /// `prompts/list`: `prompts`, by `name`.
    Prompts,
    /// `resources/list`: `resources`, by `uri`.
    Resources,
}

impl ListKind {
    /// The list a method answers, if the proxy filters it.
    pub fn of_method(method: &str) -> Option<ListKind> {
        match method {
            "tools/list" => Some(ListKind::Tools),
            "prompts/list" => Some(ListKind::Prompts),
            "resources/list" => Some(ListKind::Resources),
            _ => None,
        }
    }
}

/// Returns `response_body` with `result.tools` keeping only the tools for which
/// `keep(name, definition)` holds (the definition is the tool's raw JSON, to
/// fingerprint). Kept tools and every other byte outside the `tools` array are
/// unchanged (`nextCursor`, `_meta`, key order, whitespace). A tool without a string
/// `name` cannot be called by name, so it is dropped.
///
/// A list filtered per caller is that caller's view: a `cacheScope` (2026-07-28) other
/// than `"private"` becomes `"private"`, so no shared cache serves it to anyone else.
/// `ttlMs` is kept.
///
/// A JSON-RPC error response (no `result`) comes back unchanged.
pub fn filter_tools_list(
    response_body: &[u8],
    keep: impl FnMut(&str, &RawValue) -> bool,
) -> Result<Vec<u8>, FilterError> {
    filter_list(response_body, ListKind::Tools, keep)
}

/// [`filter_tools_list`] for any [`ListKind`]: `result.prompts` by `name`,
/// `result.resources` by `uri`, with the same guarantees.
pub fn filter_list(
    response_body: &[u8],
    kind: ListKind,
    mut keep: impl FnMut(&str, &RawValue) -> bool,
) -> Result<Vec<u8>, FilterError> {
    let text = std::str::from_utf8(response_body).map_err(|_| FilterError::InvalidUtf8)?;
    let malformed = |e: serde_json::Error| FilterError::Malformed(e.to_string());
    let envelope: Envelope<'_> = serde_json::from_str(text).map_err(malformed)?;
    let Some(result) = envelope.result else {
        return Ok(response_body.to_vec());
    };
    let list: ListResult<'_> = serde_json::from_str(result.get()).map_err(malformed)?;
    let (items_raw, field) = match kind {
        ListKind::Tools => (list.tools, "tools"),
        ListKind::Prompts => (list.prompts, "prompts"),
        ListKind::Resources => (list.resources, "resources"),
    };
    let items_raw = items_raw
        .ok_or_else(|| FilterError::Malformed(format!("the result has no `{field}` array")))?;
    let items: Vec<&RawValue> = serde_json::from_str(items_raw.get()).map_err(malformed)?;

    let mut kept = Vec::with_capacity(items.len());
    for item in &items {
        let parsed: Item<'_> = serde_json::from_str(item.get()).map_err(malformed)?;
        let key = match kind {
            ListKind::Tools | ListKind::Prompts => parsed.name,
            ListKind::Resources => parsed.uri,
        };
        if key.is_some_and(|key| keep(&key, item)) {
            kept.push(*item);
        }
    }
    let list_items = items_raw;
    // Every RawValue borrows from `text`, so its offset locates it in the original body.
    let mut splices: Vec<(std::ops::Range<usize>, Vec<u8>)> = Vec::with_capacity(2);
    if kept.len() != items.len() {
        let mut array = Vec::with_capacity(list_items.get().len());
        array.push(b'[');
        for (index, tool) in kept.iter().enumerate() {
            if index > 0 {
                array.push(b',');
            }
            array.extend_from_slice(tool.get().as_bytes());
        }
        array.push(b']');
        splices.push((offset_in(text, list_items.get()), array));
    }
    if let Some(scope) = list.cache_scope {
        if scope.get() != r#""private""# {
            splices.push((offset_in(text, scope.get()), br#""private""#.to_vec()));
        }
    }
    if splices.is_empty() {
        return Ok(response_body.to_vec());
    }
    splices.sort_by_key(|(range, _)| range.start);
    let mut out = Vec::with_capacity(response_body.len());
    let mut at = 0;
    for (range, bytes) in splices {
        out.extend_from_slice(&response_body[at..range.start]);
        out.extend_from_slice(&bytes);
        at = range.end;
    }
    out.extend_from_slice(&response_body[at..]);
    Ok(out)
}

/// [`filter_tools_list`] on the `data` of an SSE event; returns the event re-encoded
/// with its `event:`, `id:` and `retry:` fields kept. An event whose data is not a
/// `tools/list` response must not be given here.
pub fn filter_tools_list_event(
    event: &SseEvent,
    keep: impl FnMut(&str, &RawValue) -> bool,
) -> Result<Vec<u8>, FilterError> {
    filter_list_event(event, ListKind::Tools, keep)
}

/// [`filter_list`] on the `data` of an SSE event, as [`filter_tools_list_event`].
pub fn filter_list_event(
    event: &SseEvent,
    kind: ListKind,
    keep: impl FnMut(&str, &RawValue) -> bool,
) -> Result<Vec<u8>, FilterError> {
    let data = event.data().ok_or(FilterError::NoData)?;
    let filtered = filter_list(data.as_bytes(), kind, keep)?;
    if filtered == data.as_bytes() {
        return Ok(event.raw().to_vec());
    }
    // `filtered` is `data` with a sub-slice replaced by ASCII and verbatim UTF-8 slices.
    let filtered = String::from_utf8(filtered).map_err(|_| FilterError::InvalidUtf8)?;
    let mut builder = SseEventBuilder::new();
    if let Some(name) = event.event_type() {
        builder = builder.event(name);
    }
    if let Some(id) = event.id() {
        builder = builder.id(id);
    }
    if let Some(retry) = event.retry() {
        builder = builder.retry(retry);
    }
    Ok(builder.data(&filtered).encode().to_vec())
}

/// Whether `body` is a JSON-RPC response whose `result` has a `tools` member: a tool
/// list, whatever request it claims to answer. Streams that carry answers the proxy did
/// not ask for (a GET stream, the legacy transport's one stream) filter these too.
pub fn is_tools_list_result(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Result<'a> {
        #[serde(borrow)]
        tools: Option<&'a RawValue>,
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let Ok(Envelope {
        result: Some(result),
    }) = serde_json::from_str::<Envelope<'_>>(text)
    else {
        return false;
    };
    serde_json::from_str::<Result<'_>>(result.get()).is_ok_and(|r| r.tools.is_some())
}

fn offset_in(outer: &str, inner: &str) -> std::ops::Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    debug_assert!(start + inner.len() <= outer.len());
    start..start + inner.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"{"jsonrpc":"2.0","id":0,"result":{ "tools": [
        {"name":"read","inputSchema":{"type":"object","$schema":"https://json-schema.org/draft/2020-12/schema","additionalProperties":false}},
        {"name":"delete","description":"d\u00e9truire","inputSchema":{"$defs":{"x":{}},"type":"object"}},
        {"inputSchema":{}},
        {"name":"write","annotations":{"destructiveHint":true},"inputSchema":{"type":"object"}}
    ], "nextCursor":"abc", "_meta":{"k":1}}}"#;

    #[test]
    fn keeps_only_allowed_tools_verbatim_and_every_other_field() {
        let out = filter_tools_list(LIST.as_bytes(), |name, _| name != "delete").unwrap();
        let text = std::str::from_utf8(&out).unwrap();
        assert_eq!(
            text,
            r#"{"jsonrpc":"2.0","id":0,"result":{ "tools": [{"name":"read","inputSchema":{"type":"object","$schema":"https://json-schema.org/draft/2020-12/schema","additionalProperties":false}},{"name":"write","annotations":{"destructiveHint":true},"inputSchema":{"type":"object"}}], "nextCursor":"abc", "_meta":{"k":1}}}"#
        );
    }

    #[test]
    fn keep_all_returns_the_body_unchanged() {
        let body = LIST.replace("{\"inputSchema\":{}},", "");
        let out = filter_tools_list(body.as_bytes(), |_, _| true).unwrap();
        assert_eq!(out, body.as_bytes());
    }

    #[test]
    fn keep_none_leaves_an_empty_array() {
        let out = filter_tools_list(LIST.as_bytes(), |_, _| false).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["result"]["tools"], serde_json::json!([]));
        assert_eq!(value["result"]["nextCursor"], "abc");
    }

    #[test]
    fn prompt_and_resource_lists_are_filtered_by_name_and_uri() {
        let prompts = br#"{"jsonrpc":"2.0","id":1,"result":{"prompts":[{"name":"greet"},{"name":"secret"}],"cacheScope":"public"}}"#;
        let out = filter_list(prompts, ListKind::Prompts, |name, _| name != "secret").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"jsonrpc":"2.0","id":1,"result":{"prompts":[{"name":"greet"}],"cacheScope":"private"}}"#
        );
        let resources = br#"{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"a://1","name":"one"},{"uri":"b://2"}]}}"#;
        let out = filter_list(resources, ListKind::Resources, |uri, _| {
            uri.starts_with("a:")
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"a://1","name":"one"}]}}"#
        );
        // A list without its array is not relayed.
        assert!(filter_list(resources, ListKind::Prompts, |_, _| true).is_err());
        assert_eq!(
            ListKind::of_method("resources/list"),
            Some(ListKind::Resources)
        );
        assert_eq!(ListKind::of_method("resources/templates/list"), None);
    }

    #[test]
    fn a_filtered_list_is_private_to_its_caller_and_keeps_its_ttl() {
        let body = br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"},{"name":"b"}],"ttlMs":60000,"cacheScope":"public","resultType":"complete"}}"#;
        let filtered = filter_tools_list(body, |name, _| name == "a").unwrap();
        assert_eq!(
            String::from_utf8(filtered).unwrap(),
            r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"}],"ttlMs":60000,"cacheScope":"private","resultType":"complete"}}"#
        );
        // Nothing dropped: still this caller's view.
        let all = filter_tools_list(body, |_, _| true).unwrap();
        assert!(String::from_utf8(all)
            .unwrap()
            .contains(r#""cacheScope":"private""#));
        // Already private, or no scope (2025-11-25): unchanged.
        let private =
            br#"{"jsonrpc":"2.0","id":1,"result":{"cacheScope":"private","tools":[{"name":"a"}]}}"#;
        assert_eq!(filter_tools_list(private, |_, _| true).unwrap(), private);
    }

    #[test]
    fn tool_lists_are_recognised_under_any_id() {
        assert!(is_tools_list_result(LIST.as_bytes()));
        assert!(is_tools_list_result(
            br#"{"jsonrpc":"2.0","id":"other","result":{"tools":[]}}"#
        ));
        assert!(!is_tools_list_result(
            br#"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#
        ));
        assert!(!is_tools_list_result(
            br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#
        ));
        assert!(!is_tools_list_result(b"garbage"));
    }

    #[test]
    fn error_responses_pass_through_and_garbage_is_refused() {
        let error = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}"#;
        assert_eq!(filter_tools_list(error, |_, _| false).unwrap(), error);
        assert!(filter_tools_list(b"<html>", |_, _| true).is_err());
        assert!(filter_tools_list(
            br#"{"jsonrpc":"2.0","id":1,"result":{"tools":{}}}"#,
            |_, _| { true }
        )
        .is_err());
        assert!(
            filter_tools_list(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#, |_, _| true).is_err()
        );
    }

    #[test]
    fn filters_an_sse_event_keeping_its_id() {
        let mut parser = crate::sse::SseParser::new();
        let body = format!(
            "event: message\nid: 42\ndata: {}\n\n",
            LIST.replace('\n', " ")
        );
        parser.push(body.as_bytes()).unwrap();
        let event = parser.next_event().unwrap();
        let out = filter_tools_list_event(&event, |name, _| name == "read").unwrap();
        let mut parser = crate::sse::SseParser::new();
        parser.push(&out).unwrap();
        let event = parser.next_event().unwrap();
        assert_eq!(event.id(), Some("42"));
        assert_eq!(event.event_type(), Some("message"));
        let value: serde_json::Value = serde_json::from_str(event.data().unwrap()).unwrap();
        assert_eq!(value["result"]["tools"].as_array().unwrap().len(), 1);
    }
}
