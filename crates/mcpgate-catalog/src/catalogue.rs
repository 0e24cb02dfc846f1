//! Reading a catalogue file: the tools of one server, optionally hand-labelled.
//!
//! Accepted shapes, all JSON: an object with a `tools` array (a `tools/list`
//! result, or a fixture with extra keys such as `server` and `source`), a
//! JSON-RPC response wrapping one (`{"result": {"tools": [...]}}`), or a bare
//! array of tools.

use mcpgate_policy::{Category, Classification, Risk};
use serde_json::Value;

use crate::error::CatalogError;
use crate::tool::ToolDefinition;

/// The tools of one catalogue, in file order.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Each tool with its hand label, if it has one.
    pub entries: Vec<CatalogueEntry>,
}

/// One tool of a catalogue.
#[derive(Debug, Clone)]
pub struct CatalogueEntry {
    /// The tool definition.
    pub tool: ToolDefinition,
    /// The hand label (`label: {category, risk, why}`), when present.
    pub label: Option<Label>,
}

/// A human's classification of a tool, used to measure the classifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The expected category and risk.
    pub classification: Classification,
    /// The labeller's reason.
    pub why: String,
}

impl Catalogue {
    /// Parses catalogue text. Errors say what is missing and which tool is at fault.
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let value: Value = serde_json::from_str(text).map_err(CatalogError::InvalidJson)?;
        Catalogue::from_value(&value)
    }

    /// Reads a catalogue from parsed JSON.
    pub fn from_value(value: &Value) -> Result<Self, CatalogError> {
        let entries = tools_array(value)?
            .iter()
            .enumerate()
            .map(|(index, tool)| entry(index + 1, tool))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Catalogue { entries })
    }

    /// The tool definitions, in file order.
    pub fn tools(&self) -> Vec<ToolDefinition> {
        self.entries
            .iter()
            .map(|entry| entry.tool.clone())
            .collect()
    }
}

fn tools_array(value: &Value) -> Result<&Vec<Value>, CatalogError> {
    if let Some(tools) = value.as_array() {
        return Ok(tools);
    }
    if let Some(error) = value.get("error").filter(|_| value.get("result").is_none()) {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(CatalogError::RpcError(message.to_owned()));
    }
    let holder = value.get("result").unwrap_or(value);
    holder
        .get("tools")
        .and_then(Value::as_array)
        .ok_or(CatalogError::NoToolsArray)
}

fn entry(index: usize, value: &Value) -> Result<CatalogueEntry, CatalogError> {
    if !value.is_object() {
        return Err(CatalogError::ToolNotAnObject { index });
    }
    let has_name = value
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|name| !name.trim().is_empty());
    if !has_name {
        return Err(CatalogError::MissingName { index });
    }
    let tool = ToolDefinition::from_value(value)?;
    let label = match value.get("label") {
        None | Some(Value::Null) => None,
        Some(label) => Some(parse_label(tool.name(), label)?),
    };
    Ok(CatalogueEntry { tool, label })
}

fn parse_label(name: &str, label: &Value) -> Result<Label, CatalogError> {
    let invalid = |reason: String| CatalogError::InvalidLabel {
        name: name.to_owned(),
        reason,
    };
    let field = |key: &str| -> Result<&str, CatalogError> {
        label
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("`{key}` is missing or not a string")))
    };
    let category: Category = field("category")?
        .parse()
        .map_err(|error| invalid(format!("{error}")))?;
    let risk: Risk = field("risk")?
        .parse()
        .map_err(|error| invalid(format!("{error}")))?;
    let why = label
        .get("why")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Ok(Label {
        classification: Classification { category, risk },
        why,
    })
}
