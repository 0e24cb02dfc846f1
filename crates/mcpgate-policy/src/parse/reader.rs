//! Typed reads from a `serde_json::Value` that record an error (with its JSON
//! Pointer) instead of stopping, so one pass reports every problem.

use serde_json::{Map, Value};

use crate::error::{pointer, Errors};

/// The errors of one read, and the helpers that add to them.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    pub(crate) errors: Errors,
}

/// A short name for a JSON value's type, for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Reader {
    /// The value as an object whose keys are all in `allowed`; unknown keys are errors.
    pub(crate) fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        what: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = value else {
            let message = format!("expected {what} (an object), got {}", type_name(value));
            self.errors.push(path, message);
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let message = format!(
                    "unknown field `{key}`; allowed fields here: {}",
                    allowed.join(", ")
                );
                self.errors.push(&pointer(path, key), message);
            }
        }
        Some(map)
    }

    /// A field that must be present.
    pub(crate) fn required<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        field: &str,
    ) -> Option<&'v Value> {
        let value = map.get(field);
        if value.is_none() {
            self.errors.push(
                &pointer(path, field),
                format!("missing required field `{field}`"),
            );
        }
        value
    }

    /// A string.
    pub(crate) fn string(&mut self, value: &Value, path: &str) -> Option<String> {
        match value {
            Value::String(text) => Some(text.clone()),
            other => {
                let message = format!("expected a string, got {}", type_name(other));
                self.errors.push(path, message);
                None
            }
        }
    }

    /// A boolean.
    pub(crate) fn boolean(&mut self, value: &Value, path: &str) -> Option<bool> {
        match value {
            Value::Bool(flag) => Some(*flag),
            other => {
                let message = format!("expected true or false, got {}", type_name(other));
                self.errors.push(path, message);
                None
            }
        }
    }

    /// An array.
    pub(crate) fn array<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v [Value]> {
        match value {
            Value::Array(items) => Some(items),
            other => {
                let message = format!("expected an array, got {}", type_name(other));
                self.errors.push(path, message);
                None
            }
        }
    }

    /// One of a fixed set of names.
    pub(crate) fn one_of<T: Copy>(
        &mut self,
        value: &Value,
        path: &str,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let found = value
            .as_str()
            .and_then(|text| options.iter().find(|(name, _)| *name == text));
        if found.is_none() {
            let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
            let message = format!(
                "invalid {what} {value}; expected one of: {}",
                names.join(", ")
            );
            self.errors.push(path, message);
        }
        found.map(|(_, option)| *option)
    }

    /// A value read by `read` when the field is present; `None` when absent or invalid.
    pub(crate) fn optional<'v, T>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        field: &str,
        read: impl FnOnce(&mut Self, &'v Value, &str) -> Option<T>,
    ) -> Option<T> {
        let value = map.get(field)?;
        read(self, value, &pointer(path, field))
    }

    /// A list of items read by `read`, each at its index; invalid items are left out.
    pub(crate) fn list<'v, T>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        field: &str,
        mut read: impl FnMut(&mut Self, &'v Value, &str) -> Option<T>,
    ) -> Vec<T> {
        let Some(value) = map.get(field) else {
            return Vec::new();
        };
        let list_path = pointer(path, field);
        let Some(items) = self.array(value, &list_path) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| read(self, item, &pointer(&list_path, &index.to_string())))
            .collect()
    }

    /// `reason`, or its alias `on_deny`; giving both is an error.
    pub(crate) fn reason(&mut self, map: &Map<String, Value>, path: &str) -> Option<String> {
        if map.contains_key("reason") && map.contains_key("on_deny") {
            let message = "give `reason` or its alias `on_deny`, not both";
            self.errors.push(&pointer(path, "on_deny"), message);
        }
        let field = if map.contains_key("reason") {
            "reason"
        } else {
            "on_deny"
        };
        self.optional(map, path, field, Self::string)
    }
}
