//! The JSON Schema of a policy document, for editors and the API's docs.
//!
//! `docs/policy.schema.json` is this schema, checked by a test (regenerate it
//! with `UPDATE_SCHEMA=1 cargo test -p mcpgate-policy --test policy`).

use schemars::generate::SchemaSettings;
use serde_json::{json, Value};

use crate::document::Policy;

/// The JSON Schema (draft 2020-12) of a policy document.
///
/// The schema describes structure; [`crate::parse`] also checks what a schema cannot
/// (regexes compile, shared counters agree, declared tests pass).
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema: Value = generator.into_root_schema_for::<Policy>().into();
    remove_null(&mut schema);
    schema["title"] = json!("mcpgate policy");
    if let Some(definitions) = schema.get_mut("$defs").and_then(Value::as_object_mut) {
        for name in ["Rule", "ClassRule", "Condition"] {
            let Some(definition) = definitions.get_mut(name) else {
                continue;
            };
            // serde aliases are invisible to schemars; the parser accepts `on_deny`.
            definition["properties"]["on_deny"] = json!({
                "description": "Alias of `reason` (PolicyLayer's name); give one or the other.",
                "type": "string"
            });
            // A flattened struct loses `deny_unknown_fields`; the parser still refuses them.
            definition["additionalProperties"] = json!(false);
        }
    }
    schema
}

/// Optional fields are omitted, never `null` (the parser refuses `null`), but
/// schemars writes `Option<T>` as "T or null"; take the null back out.
fn remove_null(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(options)) = map.get_mut("anyOf") {
                options.retain(|option| option.get("type").is_none_or(|t| t != "null"));
                if let [only] = options.as_mut_slice() {
                    let only = only.take();
                    map.remove("anyOf");
                    if let Value::Object(inner) = only {
                        map.extend(inner);
                    }
                }
            }
            map.values_mut().for_each(remove_null);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_null),
        _ => {}
    }
}
