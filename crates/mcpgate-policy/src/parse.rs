//! Reading a policy document: JSON text or value to a typed [`Policy`], with every
//! error found, each at its JSON Pointer.
//!
//! Structure is checked here; each condition, limit and selector is also run
//! through its compiler as soon as it is read, so a document with a bad field
//! *and* a bad regex reports both. A document that reads cleanly is then compiled
//! (which runs its declared tests) before it is accepted.

mod declared;
mod items;
mod methods;
mod reader;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::compile::{compile, CounterTable};
use crate::document::{AllTools, DefaultAction, Hide, Mode, Policy, Rule};
use crate::error::{pointer, ValidationErrors};
use crate::glob::Glob;
use reader::Reader;

const POLICY_FIELDS: &[&str] = &[
    "version",
    "description",
    "default",
    "mode",
    "hide",
    "all_tools",
    "tools",
    "classes",
    "methods",
    "tests",
    "settings",
];
const RULE_FIELDS: &[&str] = &[
    "action", "reason", "on_deny", "mode", "require", "deny_if", "limits",
];
pub(crate) const MODES: &[(&str, Mode)] = &[("enforce", Mode::Enforce), ("shadow", Mode::Shadow)];

/// Reads, validates and tests a policy document given as JSON text.
pub fn parse(text: &str) -> Result<Policy, ValidationErrors> {
    let duplicates = crate::duplicates::duplicate_keys(text);
    if !duplicates.is_empty() {
        let mut reader = Reader::default();
        for path in duplicates {
            reader.errors.push(
                &path,
                "this key appears more than once in its object; a document with duplicate keys is ambiguous",
            );
        }
        return reader.errors.finish(Policy::empty());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => parse_value(&value),
        Err(error) => {
            let mut reader = Reader::default();
            reader.errors.push("", format!("not valid JSON: {error}"));
            reader.errors.finish(Policy::empty())
        }
    }
}

/// Reads, validates and tests a policy document given as a JSON value.
pub fn parse_value(value: &Value) -> Result<Policy, ValidationErrors> {
    let mut reader = Reader::default();
    let mut counters = CounterTable::default();
    let policy = read_policy(&mut reader, &mut counters, value);
    let policy = reader.errors.finish(policy)?;
    compile(&policy)?;
    Ok(policy)
}

fn read_policy(reader: &mut Reader, counters: &mut CounterTable, value: &Value) -> Policy {
    let mut policy = Policy::empty();
    let Some(map) = reader.object(value, "", "a policy document", POLICY_FIELDS) else {
        return policy;
    };
    if let Some(version) = reader.required(map, "", "version") {
        if version.as_str() != Some("1") {
            let message = format!("unsupported version {version}; expected \"1\"");
            reader.errors.push("/version", message);
        }
    }
    policy.description = reader.optional(map, "", "description", Reader::string);
    let defaults = [
        ("allow", DefaultAction::Allow),
        ("deny", DefaultAction::Deny),
    ];
    policy.default = reader
        .optional(map, "", "default", |r, v, p| {
            r.one_of(v, p, "default", &defaults)
        })
        .unwrap_or_default();
    policy.mode = reader
        .optional(map, "", "mode", |r, v, p| r.one_of(v, p, "mode", MODES))
        .unwrap_or_default();
    policy.hide = reader
        .optional(map, "", "hide", read_hide)
        .unwrap_or_default();
    policy.all_tools = reader
        .optional(map, "", "all_tools", |r, v, p| {
            let fields = r.object(v, p, "the all_tools rule", &["limits"])?;
            let limits = r.list(fields, p, "limits", |r, v, p| {
                items::read_limit(r, counters, v, p)
            });
            Some(AllTools { limits })
        })
        .unwrap_or_default();
    policy.tools = reader
        .optional(map, "", "tools", |r, v, p| {
            Some(read_tools(r, counters, v, p))
        })
        .unwrap_or_default();
    policy.classes = reader.list(map, "", "classes", |r, v, p| {
        items::read_class_rule(r, counters, v, p)
    });
    policy.methods = reader
        .optional(map, "", "methods", |r, v, p| {
            Some(methods::read_methods(r, counters, v, p))
        })
        .unwrap_or_default();
    policy.tests = reader.list(map, "", "tests", declared::read_test);
    policy.settings = reader
        .optional(map, "", "settings", items::read_settings)
        .unwrap_or_default();
    policy
}

fn read_hide(reader: &mut Reader, value: &Value, path: &str) -> Option<Hide> {
    if value.as_str() == Some("*") {
        return Some(Hide::All);
    }
    if !value.is_array() {
        let message = "expected \"*\" or a list of tool names or globs";
        reader.errors.push(path, message);
        return None;
    }
    let mut names = Vec::new();
    let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
    for (index, item) in items.iter().enumerate() {
        let item_path = pointer(path, &index.to_string());
        if let Some(name) = reader.string(item, &item_path) {
            if Glob::parse(&name, &item_path, &mut reader.errors).is_some() {
                names.push(name);
            }
        }
    }
    Some(Hide::Tools(names))
}

fn read_tools(
    reader: &mut Reader,
    counters: &mut CounterTable,
    value: &Value,
    path: &str,
) -> BTreeMap<String, Rule> {
    let mut tools = BTreeMap::new();
    let Value::Object(map) = value else {
        let message = "expected an object of tool names or globs to rules";
        reader.errors.push(path, message);
        return tools;
    };
    for (name, rule) in map {
        let rule_path = pointer(path, name);
        let key_ok = Glob::parse(name, &rule_path, &mut reader.errors).is_some();
        let rule = read_rule(reader, counters, rule, &rule_path, RULE_FIELDS);
        if let (true, Some(rule)) = (key_ok, rule) {
            tools.insert(name.clone(), rule);
        }
    }
    tools
}

/// Reads the fields of a rule from an object whose allowed keys are `fields`.
pub(crate) fn read_rule(
    reader: &mut Reader,
    counters: &mut CounterTable,
    value: &Value,
    path: &str,
    fields: &[&str],
) -> Option<Rule> {
    let map = reader.object(value, path, "a rule", fields)?;
    Some(read_rule_fields(reader, counters, map, path))
}

pub(crate) fn read_rule_fields(
    reader: &mut Reader,
    counters: &mut CounterTable,
    map: &Map<String, Value>,
    path: &str,
) -> Rule {
    let actions = [
        ("allow", crate::document::Action::Allow),
        ("deny", crate::document::Action::Deny),
        ("require_approval", crate::document::Action::RequireApproval),
    ];
    let action = reader
        .optional(map, path, "action", |r, v, p| {
            r.one_of(v, p, "action", &actions)
        })
        .unwrap_or_default();
    let mode = reader.optional(map, path, "mode", |r, v, p| r.one_of(v, p, "mode", MODES));
    Rule {
        action,
        reason: reader.reason(map, path),
        mode,
        require: reader.list(map, path, "require", items::read_condition),
        deny_if: reader.list(map, path, "deny_if", items::read_condition),
        limits: reader.list(map, path, "limits", |r, v, p| {
            items::read_limit(r, counters, v, p)
        }),
    }
}

impl Policy {
    /// The smallest valid policy: version 1, default allow, no rules.
    pub fn empty() -> Policy {
        Policy {
            version: "1".to_owned(),
            description: None,
            default: DefaultAction::Allow,
            mode: Mode::Enforce,
            hide: Hide::default(),
            all_tools: AllTools::default(),
            tools: BTreeMap::new(),
            classes: Vec::new(),
            methods: BTreeMap::new(),
            tests: Vec::new(),
            settings: Default::default(),
        }
    }
}
