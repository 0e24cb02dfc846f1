//! What Postgres cannot store, made storable without hiding it.
//!
//! A `text` value may hold any character but NUL ("invalid byte sequence for encoding
//! UTF8: 0x00"), and `jsonb` refuses the `\u0000` escape in strings and object keys
//! alike ("unsupported Unicode escape sequence"). Either refusal fails the whole
//! statement, so one client-chosen byte would fail every row of a batch. Each NUL is
//! therefore written as U+2400 SYMBOL FOR NULL (`␀`): one visible character, so a reader
//! still sees that the client sent a NUL and where, and it needs no escaping in JSON.
//! Lone UTF-16 surrogates, jsonb's other refusal, cannot reach here: Rust strings hold
//! none, and serde_json refuses `"\ud800"` when it parses a request.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::AuditEvent;

/// What a NUL is stored as.
pub const NUL_REPLACEMENT: char = '\u{2400}';

/// `text` as Postgres can store it: every NUL replaced by [`NUL_REPLACEMENT`].
pub fn storable_text(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{2400}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `value` as `jsonb` can store it: every NUL in a string or an object key replaced by
/// [`NUL_REPLACEMENT`], at any depth. Borrowed when nothing needed replacing.
pub fn storable_json(value: &Value) -> Cow<'_, Value> {
    if json_is_storable(value) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(make_json_storable(value))
    }
}

/// `event` with every text and JSON field storable. Borrowed (no copy) in the usual case
/// of an event with no NUL anywhere.
pub fn storable_event(event: &AuditEvent) -> Cow<'_, AuditEvent> {
    let texts = [
        event.request_id.as_deref(),
        Some(event.method.as_str()),
        event.tool.as_deref(),
        Some(event.decision.as_str()),
        event.rule.as_deref(),
        event.reason.as_deref(),
        event.actor.as_deref(),
    ];
    let fine = texts.iter().flatten().all(|text| !text.contains('\0'))
        && event.argument_keys.iter().all(|key| !key.contains('\0'))
        && event.arguments.as_ref().is_none_or(json_is_storable);
    if fine {
        return Cow::Borrowed(event);
    }
    let text = |text: &str| storable_text(text).into_owned();
    let optional = |value: &Option<String>| value.as_deref().map(text);
    Cow::Owned(AuditEvent {
        request_id: optional(&event.request_id),
        method: text(&event.method),
        tool: optional(&event.tool),
        decision: text(&event.decision),
        rule: optional(&event.rule),
        reason: optional(&event.reason),
        argument_keys: event.argument_keys.iter().map(|key| text(key)).collect(),
        arguments: event
            .arguments
            .as_ref()
            .map(|arguments| storable_json(arguments).into_owned()),
        actor: optional(&event.actor),
        ..event.clone()
    })
}

fn json_is_storable(value: &Value) -> bool {
    match value {
        Value::String(text) => !text.contains('\0'),
        Value::Array(items) => items.iter().all(json_is_storable),
        Value::Object(object) => object
            .iter()
            .all(|(key, value)| !key.contains('\0') && json_is_storable(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

fn make_json_storable(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(storable_text(text).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(make_json_storable).collect()),
        Value::Object(object) => {
            // Keys without NUL first, as they are; a sanitised key that collides with one
            // (`"a\u0000"` next to a literal `"a␀"`) gets another `␀` rather than
            // overwrite a value.
            let mut storable: Map<String, Value> = object
                .iter()
                .filter(|(key, _)| !key.contains('\0'))
                .map(|(key, value)| (key.clone(), make_json_storable(value)))
                .collect();
            for (key, value) in object.iter().filter(|(key, _)| key.contains('\0')) {
                let mut key = storable_text(key).into_owned();
                while storable.contains_key(&key) {
                    key.push(NUL_REPLACEMENT);
                }
                storable.insert(key, make_json_storable(value));
            }
            Value::Object(storable)
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::ids::{AuditEventId, TenantId};

    fn event() -> AuditEvent {
        AuditEvent {
            id: AuditEventId::new(),
            tenant_id: TenantId::new(),
            at: Utc::now(),
            server_id: None,
            grant_id: None,
            request_id: Some("req\0".into()),
            method: "tools/call".into(),
            tool: Some("x\0".into()),
            decision: "deny".into(),
            rule: Some("r\0ule".into()),
            reason: Some("\0".into()),
            policy_version: Some(1),
            upstream_status: None,
            latency_us: None,
            argument_keys: vec!["a\0b".into(), "plain".into()],
            arguments: Some(json!({"a\u{0}b": ["\u{0}", {"\u{0}": "v\u{0}"}], "plain": 1})),
            actor: Some("someone\0".into()),
        }
    }

    #[test]
    fn every_nul_of_an_event_becomes_the_symbol_for_null_and_nothing_else_changes() {
        let event = event();
        assert!(
            event.tool.as_deref().unwrap().contains('\0'),
            "precondition"
        );
        let storable = storable_event(&event);
        assert!(matches!(storable, Cow::Owned(_)));
        let as_json = serde_json::to_string(&*storable).unwrap();
        assert!(!as_json.contains("\\u0000"), "{as_json}");
        assert_eq!(storable.id, event.id);
        assert_eq!(storable.request_id.as_deref(), Some("req␀"));
        assert_eq!(storable.tool.as_deref(), Some("x␀"));
        assert_eq!(storable.rule.as_deref(), Some("r␀ule"));
        assert_eq!(storable.reason.as_deref(), Some("␀"));
        assert_eq!(storable.actor.as_deref(), Some("someone␀"));
        assert_eq!(storable.argument_keys, ["a␀b", "plain"]);
        assert_eq!(
            storable.arguments,
            Some(json!({"a␀b": ["␀", {"␀": "v␀"}], "plain": 1}))
        );
    }

    #[test]
    fn an_event_without_nul_is_not_copied() {
        let mut event = event();
        event.request_id = None;
        event.tool = Some("k8s_get_nodes".into());
        event.rule = None;
        event.reason = Some("fine".into());
        event.actor = None;
        event.argument_keys = vec!["image".into()];
        event.arguments = Some(json!({"image": "nginx", "n": [1, true, null]}));
        assert!(matches!(storable_event(&event), Cow::Borrowed(_)));
        assert!(matches!(storable_text("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn keys_that_collide_once_sanitised_are_both_kept() {
        let value = json!({"a\u{0}": 1, "a␀": 2});
        let storable = storable_json(&value).into_owned();
        let object = storable.as_object().unwrap();
        assert_eq!(object.len(), 2, "{storable}");
        assert_eq!(object["a␀"], 2, "the literal key keeps its name");
        assert_eq!(object["a␀␀"], 1);
    }

    #[test]
    fn lone_surrogates_never_reach_the_sanitiser() {
        // jsonb also refuses unpaired surrogates; serde_json refuses them first.
        assert!(serde_json::from_str::<Value>(r#"{"a":"\ud800"}"#).is_err());
        assert!(serde_json::from_str::<Value>(r#"{"\udc00":1}"#).is_err());
        // A proper pair is an ordinary character.
        let pair: Value = serde_json::from_str(r#""\ud83d\ude00""#).unwrap();
        assert_eq!(pair, "😀");
    }
}
