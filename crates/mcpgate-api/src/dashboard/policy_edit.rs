//! Edits to a policy document made by buttons rather than typing: quick actions
//! on one tool and the visual builder. The JSON stays the source of truth: each
//! edit touches only the tool's own entry (and `hide`), keeping everything else.

use serde_json::{json, Map, Value};

/// A one-click change to one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QuickAction {
    Allow,
    Deny,
    RequireApproval,
    RateLimit { max: u64, window: String },
}

/// The builder's choice for one tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Choice {
    Allow,
    Deny,
    Hide,
    /// Leave the tool's entry as it is.
    Custom,
}

impl Choice {
    pub(crate) fn parse(text: &str) -> Option<Choice> {
        match text {
            "allow" => Some(Choice::Allow),
            "deny" => Some(Choice::Deny),
            "hide" => Some(Choice::Hide),
            "custom" => Some(Choice::Custom),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Choice::Allow => "allow",
            Choice::Deny => "deny",
            Choice::Hide => "hide",
            Choice::Custom => "custom",
        }
    }
}

/// The document to edit: the active one, or an empty allow-by-default policy.
/// A document that is not a JSON object cannot be edited by buttons.
pub(crate) fn editable(active: Option<&str>) -> Result<Map<String, Value>, String> {
    match active {
        None => Ok(json!({"version": "1"})
            .as_object()
            .cloned()
            .unwrap_or_default()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err("the active policy is not a JSON object; edit it as text".into()),
        },
    }
}

/// The counter a quick rate limit uses for `tool`: a valid counter name.
pub(crate) fn counter_for(tool: &str) -> String {
    let mut base: String = tool
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(59)
        .collect();
    base.push_str("_rate");
    base
}

/// Applies a quick action to `tool`.
pub(crate) fn apply_quick(document: &mut Map<String, Value>, tool: &str, action: &QuickAction) {
    match action {
        QuickAction::Allow => {
            unhide(document, tool);
            entry(document, tool).remove("action");
        }
        QuickAction::Deny => {
            unhide(document, tool);
            entry(document, tool).insert("action".into(), json!("deny"));
        }
        QuickAction::RequireApproval => {
            unhide(document, tool);
            entry(document, tool).insert("action".into(), json!("require_approval"));
        }
        QuickAction::RateLimit { max, window } => {
            unhide(document, tool);
            let counter = counter_for(tool);
            let rule = entry(document, tool);
            if rule.get("action") == Some(&json!("deny")) {
                rule.remove("action");
            }
            let limits = rule.entry("limits").or_insert_with(|| json!([]));
            if !limits.is_array() {
                *limits = json!([]);
            }
            if let Some(items) = limits.as_array_mut() {
                items.retain(|limit| limit["counter"] != json!(counter));
                items.push(json!({
                    "counter": counter, "window": window, "max": max, "scope": "grant"
                }));
            }
        }
    }
}

/// Applies the builder's choices, in order.
pub(crate) fn apply_choices(document: &mut Map<String, Value>, choices: &[(String, Choice)]) {
    for (tool, choice) in choices {
        match choice {
            Choice::Allow => apply_quick(document, tool, &QuickAction::Allow),
            Choice::Deny => apply_quick(document, tool, &QuickAction::Deny),
            Choice::Hide => hide(document, tool),
            Choice::Custom => {}
        }
    }
}

/// What the builder shows as `tool`'s current choice: Custom for anything the
/// three simple choices would lose (limits, conditions, approval, globs).
pub(crate) fn current_choice(document: &Map<String, Value>, tool: &str) -> Choice {
    if let Some(Value::Array(hidden)) = document.get("hide") {
        if hidden.iter().any(|name| name.as_str() == Some(tool)) {
            return Choice::Hide;
        }
    }
    match document.get("tools").and_then(|tools| tools.get(tool)) {
        Some(Value::Object(rule)) if rule.is_empty() => Choice::Allow,
        Some(Value::Object(rule))
            if rule.len() <= 2
                && rule.get("action") == Some(&json!("deny"))
                && rule.keys().all(|k| k == "action" || k == "reason") =>
        {
            Choice::Deny
        }
        _ => Choice::Custom,
    }
}

/// Pretty JSON for the editor.
pub(crate) fn to_text(document: &Map<String, Value>) -> String {
    serde_json::to_string_pretty(document).unwrap_or_else(|_| "{}".into())
}

fn entry<'d>(document: &'d mut Map<String, Value>, tool: &str) -> &'d mut Map<String, Value> {
    let tools = document
        .entry("tools")
        .or_insert_with(|| Value::Object(Map::new()));
    if !tools.is_object() {
        *tools = Value::Object(Map::new());
    }
    let rule = tools
        .as_object_mut()
        .expect("made an object above")
        .entry(tool)
        .or_insert_with(|| Value::Object(Map::new()));
    if !rule.is_object() {
        *rule = Value::Object(Map::new());
    }
    rule.as_object_mut().expect("made an object above")
}

fn unhide(document: &mut Map<String, Value>, tool: &str) {
    if let Some(Value::Array(hidden)) = document.get_mut("hide") {
        hidden.retain(|name| name.as_str() != Some(tool));
        if hidden.is_empty() {
            document.remove("hide");
        }
    }
}

fn hide(document: &mut Map<String, Value>, tool: &str) {
    let hidden = document.entry("hide").or_insert_with(|| json!([]));
    if let Value::Array(items) = hidden {
        if !items.iter().any(|name| name.as_str() == Some(tool)) {
            items.push(json!(tool));
        }
    }
    // `"hide": "*"` already hides every tool.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn a_rate_limit_replaces_its_own_counter_and_keeps_other_rules() {
        let mut document = doc(json!({"version": "1", "tools": {"run": {
            "require": [{"path": "args.a", "op": "exists"}],
            "limits": [{"counter": "run_rate", "window": "hour", "max": 1}]}}}));
        let action = QuickAction::RateLimit {
            max: 10,
            window: "minute".into(),
        };
        apply_quick(&mut document, "run", &action);
        let rule = &document["tools"]["run"];
        assert_eq!(rule["limits"].as_array().unwrap().len(), 1);
        assert_eq!(rule["limits"][0]["max"], 10);
        assert!(rule["require"].is_array());
    }

    #[test]
    fn the_builder_hides_allows_and_leaves_custom_entries_alone() {
        let mut document = doc(json!({"version": "1", "hide": ["a"], "tools": {
            "c": {"action": "require_approval"}}}));
        apply_choices(
            &mut document,
            &[
                ("a".into(), Choice::Allow),
                ("b".into(), Choice::Hide),
                ("c".into(), Choice::Custom),
                ("d".into(), Choice::Deny),
            ],
        );
        assert_eq!(document["hide"], json!(["b"]));
        assert_eq!(document["tools"]["a"], json!({}));
        assert_eq!(
            document["tools"]["c"],
            json!({"action": "require_approval"})
        );
        assert_eq!(current_choice(&document, "a"), Choice::Allow);
        assert_eq!(current_choice(&document, "b"), Choice::Hide);
        assert_eq!(current_choice(&document, "c"), Choice::Custom);
        assert_eq!(current_choice(&document, "d"), Choice::Deny);
    }

    #[test]
    fn counter_names_are_always_valid() {
        assert_eq!(counter_for("k8s run/pod"), "k8s_run_pod_rate");
        assert!(counter_for(&"x".repeat(200)).len() <= 64);
    }
}
