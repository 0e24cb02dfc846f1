//! Reading the `methods` section: rules for MCP methods other than `tools/call`,
//! by method name or glob. A method rule is a tool rule, less `hide`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::reader::Reader;
use super::{read_rule, RULE_FIELDS};
use crate::compile::{method_key_error, CounterTable};
use crate::document::Rule;
use crate::error::pointer;
use crate::glob::Glob;

pub(super) fn read_methods(
    reader: &mut Reader,
    counters: &mut CounterTable,
    value: &Value,
    path: &str,
) -> BTreeMap<String, Rule> {
    let mut methods = BTreeMap::new();
    let Value::Object(map) = value else {
        let message = "expected an object of method names or globs to rules";
        reader.errors.push(path, message);
        return methods;
    };
    // `hide` is read here only to be refused with a better message than "unknown field".
    let mut fields = RULE_FIELDS.to_vec();
    fields.push("hide");
    for (name, rule) in map {
        let rule_path = pointer(path, name);
        let mut key_ok = Glob::parse(name, &rule_path, &mut reader.errors).is_some();
        if let Some(message) = method_key_error(name) {
            reader.errors.push(&rule_path, message);
            key_ok = false;
        }
        if rule.get("hide").is_some() {
            let message = "`hide` applies to tools only (it removes them from `tools/list`); a \
                 method cannot be hidden: use `\"action\": \"deny\"` to refuse it";
            reader.errors.push(&pointer(&rule_path, "hide"), message);
        }
        let rule = read_rule(reader, counters, rule, &rule_path, &fields);
        if let (true, Some(rule)) = (key_ok, rule) {
            methods.insert(name.clone(), rule);
        }
    }
    methods
}
