//! An MCP tool definition, read leniently.
//!
//! Real servers emit every shape the spec allows and some it does not, so
//! unknown keys are ignored and every field but `name` may be missing.
//! `inputSchema`, `outputSchema` and `annotations` are also kept verbatim,
//! because the fingerprint must see exactly what the upstream sent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::CatalogError;

/// One tool as listed by an MCP server's `tools/list`. The name is never empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawTool", into = "RawTool")]
pub struct ToolDefinition {
    raw: RawTool,
    annotations: ToolAnnotations,
}

/// The behaviour hints of the MCP spec. Each is `None` when absent or not a boolean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolAnnotations {
    /// The tool does not modify its environment.
    pub read_only: Option<bool>,
    /// The tool may perform destructive updates.
    pub destructive: Option<bool>,
    /// Repeating a call with the same arguments has no further effect.
    pub idempotent: Option<bool>,
    /// The tool interacts with an open world of external entities.
    pub open_world: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTool {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<Value>,
}

impl TryFrom<RawTool> for ToolDefinition {
    type Error = String;

    fn try_from(raw: RawTool) -> Result<Self, Self::Error> {
        if raw.name.trim().is_empty() {
            return Err("a tool needs a non-empty `name`".to_owned());
        }
        let annotations = raw
            .annotations
            .as_ref()
            .map(ToolAnnotations::from_value)
            .unwrap_or_default();
        Ok(ToolDefinition { raw, annotations })
    }
}

impl From<ToolDefinition> for RawTool {
    fn from(tool: ToolDefinition) -> Self {
        tool.raw
    }
}

impl ToolAnnotations {
    fn from_value(value: &Value) -> Self {
        let hint = |key: &str| value.get(key).and_then(Value::as_bool);
        ToolAnnotations {
            read_only: hint("readOnlyHint"),
            destructive: hint("destructiveHint"),
            idempotent: hint("idempotentHint"),
            open_world: hint("openWorldHint"),
        }
    }
}

impl ToolDefinition {
    /// Reads one tool definition from a JSON value such as an element of a
    /// `tools/list` result. `label` and other unknown keys are ignored.
    pub fn from_value(value: &Value) -> Result<Self, CatalogError> {
        let name = value.get("name").and_then(Value::as_str).unwrap_or("?");
        ToolDefinition::deserialize(value).map_err(|error| CatalogError::InvalidTool {
            name: name.to_owned(),
            reason: error.to_string(),
        })
    }

    /// The tool's name, as the upstream spells it.
    pub fn name(&self) -> &str {
        &self.raw.name
    }

    /// The optional human-readable title.
    pub fn title(&self) -> Option<&str> {
        self.raw.title.as_deref()
    }

    /// The description, or `""` when the server gave none.
    pub fn description(&self) -> &str {
        self.raw.description.as_deref().unwrap_or("")
    }

    /// Whether the server sent a description (possibly empty).
    pub fn has_description(&self) -> bool {
        self.raw.description.is_some()
    }

    /// The JSON Schema of the arguments, verbatim.
    pub fn input_schema(&self) -> Option<&Value> {
        self.raw.input_schema.as_ref()
    }

    /// The JSON Schema of the structured result, verbatim.
    pub fn output_schema(&self) -> Option<&Value> {
        self.raw.output_schema.as_ref()
    }

    /// The raw `annotations` object, verbatim.
    pub fn raw_annotations(&self) -> Option<&Value> {
        self.raw.annotations.as_ref()
    }

    /// The behaviour hints the server declared.
    pub fn annotations(&self) -> ToolAnnotations {
        self.annotations
    }

    /// The top-level argument names with their schemas, in schema order.
    pub fn arguments(&self) -> Vec<(&str, &Value)> {
        self.input_schema()
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object)
            .map(|properties| {
                properties
                    .iter()
                    .map(|(name, schema)| (name.as_str(), schema))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::ToolDefinition;

    #[test]
    fn unknown_keys_and_missing_fields_are_fine() {
        let tool = ToolDefinition::from_value(&json!({"name": "x", "label": {}, "extra": 1}))
            .expect("lenient");
        assert_eq!(tool.name(), "x");
        assert_eq!(tool.description(), "");
        assert!(tool.arguments().is_empty());
        assert_eq!(tool.annotations().read_only, None);
    }

    #[test]
    fn non_boolean_hints_are_ignored() {
        let tool = ToolDefinition::from_value(
            &json!({"name": "x", "annotations": {"readOnlyHint": "yes", "destructiveHint": true}}),
        )
        .expect("lenient");
        assert_eq!(tool.annotations().read_only, None);
        assert_eq!(tool.annotations().destructive, Some(true));
    }

    #[test]
    fn a_tool_without_a_name_is_refused() {
        let error = ToolDefinition::from_value(&json!({"description": "d"})).unwrap_err();
        assert!(error.to_string().contains("non-empty `name`"), "{error}");
    }
}
