//! What of a call's arguments goes into the audit log: the keys always, the values only
//! when the policy opts in (`settings.audit_arguments`), with secrets redacted and the
//! whole capped in size.

use serde_json::{Map, Value};

/// Above this many bytes of JSON, audited values are replaced by a note.
const MAX_AUDITED_BYTES: usize = 8 * 1024;
/// Longer strings are cut to this many characters.
const MAX_STRING_CHARS: usize = 1024;
/// Key fragments whose values are never stored.
const SECRET_WORDS: [&str; 6] = [
    "password",
    "passwd",
    "token",
    "secret",
    "key",
    "authorization",
];

/// The top-level argument names, sorted.
pub(crate) fn argument_keys(arguments: &Value) -> Vec<String> {
    let mut keys: Vec<String> = arguments
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// The arguments as audited: secrets redacted at any depth, long strings cut, and the
/// whole replaced by a note when it is still too large.
pub(crate) fn audited_arguments(arguments: &Value) -> Value {
    let redacted = redact(arguments);
    let size = serde_json::to_vec(&redacted).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_AUDITED_BYTES {
        return serde_json::json!({"_truncated": format!("{size} bytes of arguments not stored")});
    }
    redacted
}

fn redact(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| {
                    let value = if looks_secret(key) {
                        Value::String("[REDACTED]".into())
                    } else {
                        redact(value)
                    };
                    (key.clone(), value)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(text) if text.chars().count() > MAX_STRING_CHARS => {
            let cut: String = text.chars().take(MAX_STRING_CHARS).collect();
            Value::String(format!("{cut}…"))
        }
        other => other.clone(),
    }
}

fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| key.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth_and_keys_kept() {
        let arguments = json!({"image": "nginx", "env": {"DB_PASSWORD": "x", "apiKey": "y"},
            "items": [{"token": "z"}], "Authorization": "Bearer q"});
        let audited = audited_arguments(&arguments);
        assert_eq!(audited["image"], "nginx");
        assert_eq!(audited["env"]["DB_PASSWORD"], "[REDACTED]");
        assert_eq!(audited["env"]["apiKey"], "[REDACTED]");
        assert_eq!(audited["items"][0]["token"], "[REDACTED]");
        assert_eq!(audited["Authorization"], "[REDACTED]");
        assert_eq!(
            argument_keys(&arguments),
            ["Authorization", "env", "image", "items"]
        );
    }

    #[test]
    fn large_arguments_are_capped() {
        let arguments = json!({"a": "x".repeat(5000), "b": vec!["y".repeat(900); 20]});
        let audited = audited_arguments(&arguments);
        assert!(audited.get("_truncated").is_some());
        let audited = audited_arguments(&json!({"a": "x".repeat(5000)}));
        assert_eq!(
            audited["a"].as_str().unwrap().chars().count(),
            MAX_STRING_CHARS + 1
        );
    }
}
