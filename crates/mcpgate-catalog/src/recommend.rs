//! A starting policy a careful operator would accept, derived from a
//! classified catalogue and written in the mcpgate policy language.
//!
//! Per tool: reads are allowed; writes and network calls are rate-limited per
//! grant; execute tools are limited to 10 calls a minute per grant and get a
//! generic argument check where one exists; destructive, credential and
//! critical-risk tools require approval. Tools not listed are denied.

use mcpgate_policy::{Category, Risk};
use serde_json::{json, Map, Value};

use crate::classify::ClassifiedTool;
use crate::evidence::{Effect, Evidence};
use crate::signals::{Role, Signals};

/// Longest command or script a recommended policy lets through unapproved.
const MAX_COMMAND_LENGTH: u64 = 1024;

/// SQL that changes schema or permissions; a read-mostly starting policy denies it.
const SQL_DDL_PATTERN: &str = r"(?i)\b(drop|truncate|alter|grant|revoke|create)\b";

/// Builds `{"version": "1", "default": "deny", "tools": {...}}` with one entry per tool.
pub fn recommended_policy(tools: &[ClassifiedTool]) -> Value {
    let entries: Map<String, Value> = tools
        .iter()
        .map(|classified| (classified.tool.name().to_owned(), entry(classified)))
        .collect();
    json!({"version": "1", "default": "deny", "tools": entries})
}

fn entry(classified: &ClassifiedTool) -> Value {
    let assessment = &classified.assessment;
    let category = assessment.classification.category;
    let risk = assessment.classification.risk;
    let reason = reason(category, risk, &assessment.evidence);
    let name = assessment.name.as_str();
    if risk == Risk::Critical || matches!(category, Category::Destructive | Category::Credential) {
        return json!({"action": "require_approval", "reason": reason});
    }
    let signals = Signals::gather(&classified.tool);
    let required = required_arguments(&classified.tool);
    let condition = |argument: &str, op: &str, value: Value| {
        condition(argument, op, value, required.contains(&argument))
    };
    match category {
        Category::Read if risk == Risk::Low => json!({}),
        Category::Read => json!({"reason": reason}),
        Category::Write | Category::Network => {
            let max = if risk >= Risk::High { 10 } else { 30 };
            let mut entry = json!({"reason": reason, "limits": [rate_limit(name, max)]});
            if category == Category::Network {
                if let Some(url) = signals
                    .argument(Role::Url)
                    .filter(|a| is_string(a.schema()))
                {
                    let check = condition(&url.name, "prefix", json!("https://"));
                    entry["require"] = json!([check]);
                }
            }
            entry
        }
        Category::Execute => execute_entry(name, &signals, reason, &condition),
        Category::Destructive | Category::Credential => {
            json!({"action": "require_approval", "reason": reason})
        }
    }
}

fn execute_entry(
    name: &str,
    signals: &Signals,
    reason: String,
    condition: &dyn Fn(&str, &str, Value) -> Value,
) -> Value {
    let mut entry = json!({"reason": reason, "limits": [rate_limit(name, 10)]});
    let mut require = Vec::new();
    let mut deny_if = Vec::new();
    for argument in &signals.arguments {
        if !is_string(argument.schema()) {
            continue;
        }
        if argument.roles.contains(&Role::Sql) {
            deny_if.push(condition(&argument.name, "regex", json!(SQL_DDL_PATTERN)));
        }
        if argument.roles.contains(&Role::Code) {
            require.push(condition(
                &argument.name,
                "max_length",
                json!(MAX_COMMAND_LENGTH),
            ));
        }
    }
    if !require.is_empty() {
        entry["require"] = Value::Array(require);
    }
    if !deny_if.is_empty() {
        entry["deny_if"] = Value::Array(deny_if);
    }
    entry
}

fn rate_limit(tool: &str, max: u32) -> Value {
    json!({"counter": counter_name(tool), "window": "minute", "max": max, "scope": "grant"})
}

/// `<tool>_rate`, fitted to the policy language's counter names
/// (`[A-Za-z0-9_.-]{1,64}`): other characters become `_`, long names are cut.
fn counter_name(tool: &str) -> String {
    let safe: String = tool
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(64 - "_rate".len())
        .collect();
    format!("{safe}_rate")
}

/// A condition on `args.<argument>`. Conditions deny a call whose argument is missing,
/// so one on an argument the schema does not require is `optional`: skipped when the
/// argument is absent (a mistyped one still denies).
fn condition(argument: &str, op: &str, value: Value, required: bool) -> Value {
    let mut condition = json!({"path": format!("args.{argument}"), "op": op, "value": value});
    if !required {
        condition["optional"] = json!(true);
    }
    condition
}

/// The names the tool's input schema lists as `required`.
fn required_arguments(tool: &crate::ToolDefinition) -> Vec<&str> {
    tool.input_schema()
        .and_then(|schema| schema.get("required"))
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether a JSON Schema admits only strings (or null), directly or via `anyOf`.
fn is_string(schema: &Value) -> bool {
    match schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
    {
        Some(options) => {
            let types: Vec<Option<&str>> = options.iter().map(single).collect();
            types.contains(&Some("string"))
                && types
                    .iter()
                    .all(|t| matches!(t, Some("string") | Some("null")))
        }
        None => single(schema) == Some("string"),
    }
}

fn single(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

/// "execute, high: <why the risk is what it is>".
fn reason(category: Category, risk: Risk, evidence: &[Evidence]) -> String {
    let why = evidence
        .iter()
        .rev()
        .find(|e| matches!(e.effect, Effect::Risk(_)))
        .map(|e| e.message.as_str())
        .unwrap_or("");
    format!("{category}, {risk}: {why}")
}
