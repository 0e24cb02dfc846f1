//! What of a call's arguments goes into the audit log: the keys always, the values only
//! when the policy opts in (`settings.audit_arguments`), with secrets redacted and the
//! whole capped in size. Approval rows show a person the arguments they decide on:
//! [`redacted_arguments`] gives those with the same redaction and no cap.

use serde_json::{Map, Value};

use super::secrets::{is_secret_name, redact_secret_values, REDACTED};

/// Above this many bytes of JSON, audited values are replaced by a note.
const MAX_AUDITED_BYTES: usize = 8 * 1024;
/// Longer strings are cut to this many characters.
const MAX_STRING_CHARS: usize = 1024;
/// Fields that name their sibling `value`, as in Kubernetes `env` lists
/// (`{"name": "DB_PASSWORD", "value": "…"}`) and HTTP header lists.
const NAME_FIELDS: [&str; 3] = ["name", "key", "header"];

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
    let redacted = redact(arguments, Some(MAX_STRING_CHARS));
    let size = serde_json::to_vec(&redacted).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_AUDITED_BYTES {
        return serde_json::json!({"_truncated": format!("{size} bytes of arguments not stored")});
    }
    redacted
}

/// The arguments with every secret redacted as in the audit log (by name, by a
/// sibling's name, by shape), but nothing cut: for rows a person reads to decide on
/// the call, such as approvals.
pub(crate) fn redacted_arguments(arguments: &Value) -> Value {
    redact(arguments, None)
}

fn redact(value: &Value, max_chars: Option<usize>) -> Value {
    match value {
        Value::Object(object) => {
            let secret_value = names_a_secret(object);
            Value::Object(
                object
                    .iter()
                    .map(|(key, value)| {
                        let secret = is_secret_name(key)
                            || (secret_value && key.eq_ignore_ascii_case("value"));
                        let value = if secret {
                            Value::String(REDACTED.into())
                        } else {
                            redact(value, max_chars)
                        };
                        (key.clone(), value)
                    })
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| redact(item, max_chars)).collect())
        }
        Value::String(text) => {
            let redacted = redact_secret_values(text);
            let text = redacted.as_deref().unwrap_or(text);
            match max_chars {
                Some(max) if text.chars().count() > max => {
                    let cut: String = text.chars().take(max).collect();
                    Value::String(format!("{cut}…"))
                }
                _ => Value::String(text.to_owned()),
            }
        }
        other => other.clone(),
    }
}

/// Whether `object` is a name/value pair whose name is secret.
fn names_a_secret(object: &Map<String, Value>) -> bool {
    object.iter().any(|(field, name)| {
        NAME_FIELDS
            .iter()
            .any(|known| field.eq_ignore_ascii_case(known))
            && name.as_str().is_some_and(is_secret_name)
    })
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
    fn the_keys_the_old_list_missed_are_redacted_and_look_alikes_are_kept() {
        let arguments = json!({"credentials": "c", "auth": "a", "cookie": "k",
            "session": "s", "private_key": "p", "api_key": "a", "access_key": "a",
            "bearer": "b", "jwt": "j", "otp": "1", "pin": 1234,
            "author": "Ada", "pinned": true, "primary_key": "id", "key": "name"});
        let audited = audited_arguments(&arguments);
        for secret in [
            "credentials",
            "auth",
            "cookie",
            "session",
            "private_key",
            "api_key",
            "access_key",
            "bearer",
            "jwt",
            "otp",
            "pin",
        ] {
            assert_eq!(audited[secret], REDACTED, "{secret}");
        }
        assert_eq!(audited["author"], "Ada");
        assert_eq!(audited["pinned"], true);
        assert_eq!(audited["primary_key"], "id");
        assert_eq!(audited["key"], "name");
    }

    #[test]
    fn an_env_list_value_is_redacted_when_its_name_is_secret() {
        let arguments = json!({"containers": [{"env": [
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "LOG_LEVEL", "value": "debug"},
            {"Name": "GITHUB_TOKEN", "Value": "t"},
            {"key": "Authorization", "value": "Basic dXNlcjpwYXNz"}
        ]}]});
        let audited = audited_arguments(&arguments);
        let env = &audited["containers"][0]["env"];
        assert_eq!(env.as_array().map(Vec::len), Some(4));
        assert_eq!(env[0]["name"], "DB_PASSWORD", "the name stays as evidence");
        assert_eq!(env[0]["value"], REDACTED);
        assert_eq!(env[1]["value"], "debug");
        assert_eq!(env[2]["Value"], REDACTED);
        assert_eq!(env[3]["value"], REDACTED);
    }

    #[test]
    fn secret_shaped_values_are_redacted_whatever_their_key() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl";
        let arguments = json!({"header": format!("Bearer {jwt}"), "note": jwt,
            "pem": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
            "args": ["--db", "postgres://app:hunter2@db/x", "DB_PASSWORD=hunter2"],
            "image": "nginx"});
        let audited = audited_arguments(&arguments);
        assert_eq!(audited["header"], "Bearer [REDACTED]");
        assert_eq!(audited["note"], REDACTED);
        assert_eq!(audited["pem"], REDACTED);
        assert_eq!(
            audited["args"],
            json!([
                "--db",
                "postgres://app:[REDACTED]@db/x",
                "DB_PASSWORD=[REDACTED]"
            ])
        );
        assert_eq!(audited["image"], "nginx");
        assert!(!audited.to_string().contains("hunter2"));
    }

    #[test]
    fn redacted_arguments_for_approvals_redact_the_same_and_cut_nothing() {
        let long = "x".repeat(5000);
        let arguments = json!({"script": long, "password": "p", "cmd": "DB_PASSWORD=p"});
        let redacted = redacted_arguments(&arguments);
        assert_eq!(redacted["script"].as_str().map(str::len), Some(5000));
        assert_eq!(redacted["password"], REDACTED);
        assert_eq!(redacted["cmd"], "DB_PASSWORD=[REDACTED]");
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
