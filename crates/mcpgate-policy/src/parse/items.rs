//! Reading the parts of a policy: conditions, limits, classification rules and
//! settings.

use serde_json::Value;

use super::reader::Reader;
use super::{read_rule_fields, RULE_FIELDS};
use crate::classification::{Category, Risk};
use crate::compile::CounterTable;
use crate::condition::CompiledCondition;
use crate::document::{ClassMatch, ClassRule, Condition, Limit, Op, Scope};
use crate::path::ArgPath;
use crate::settings::{AuditMode, DenyResponse, LimiterErrorPolicy, Settings};
use crate::span::{CounterName, Span};

const OPS: &[(&str, Op)] = &[
    ("eq", Op::Eq),
    ("neq", Op::Neq),
    ("in", Op::In),
    ("not_in", Op::NotIn),
    ("lt", Op::Lt),
    ("lte", Op::Lte),
    ("gt", Op::Gt),
    ("gte", Op::Gte),
    ("regex", Op::Regex),
    ("contains", Op::Contains),
    ("exists", Op::Exists),
    ("prefix", Op::Prefix),
    ("max_length", Op::MaxLength),
];
const SCOPES: &[(&str, Scope)] = &[
    ("grant", Scope::Grant),
    ("server", Scope::Server),
    ("tenant", Scope::Tenant),
];

pub(super) fn read_condition(reader: &mut Reader, value: &Value, path: &str) -> Option<Condition> {
    let fields = ["path", "op", "value", "reason", "on_deny", "optional"];
    let map = reader.object(value, path, "a condition", &fields)?;
    let arg_path = reader.required(map, path, "path");
    let arg_path = arg_path.and_then(|v| reader.string(v, &format!("{path}/path")));
    let op = reader.required(map, path, "op");
    let op = op.and_then(|v| reader.one_of(v, &format!("{path}/op"), "operator", OPS));
    let reason = reader.reason(map, path);
    let optional = reader.optional(map, path, "optional", Reader::boolean);
    let optional_ok = optional.is_some() || !map.contains_key("optional");
    let condition = Condition {
        path: arg_path?,
        op: op?,
        value: map.get("value").cloned(),
        reason,
        optional: optional.unwrap_or(false),
    };
    optional_ok.then_some(())?;
    CompiledCondition::compile(&condition, path, &mut reader.errors)?;
    Some(condition)
}

pub(super) fn read_limit(
    reader: &mut Reader,
    counters: &mut CounterTable,
    value: &Value,
    path: &str,
) -> Option<Limit> {
    let fields = ["counter", "window", "max", "scope", "increment_from"];
    let map = reader.object(value, path, "a limit", &fields)?;
    let counter = reader.required(map, path, "counter").and_then(|v| {
        let at = format!("{path}/counter");
        let name = reader.string(v, &at)?;
        CounterName::parse(&name)
            .map_err(|message| reader.errors.push(&at, message))
            .ok()
    });
    let window = reader.required(map, path, "window").and_then(|v| {
        let at = format!("{path}/window");
        let text = reader.string(v, &at)?;
        Span::parse(&text)
            .map_err(|message| reader.errors.push(&at, format!("bad window: {message}")))
            .ok()
    });
    let max = reader
        .required(map, path, "max")
        .and_then(|v| match v.as_u64() {
            Some(max) if max >= 1 => Some(max),
            _ => {
                let message = format!("`max` must be a whole number of at least 1, got {v}");
                reader.errors.push(&format!("{path}/max"), message);
                None
            }
        });
    let scope = reader.optional(map, path, "scope", |r, v, p| {
        r.one_of(v, p, "scope", SCOPES)
    });
    let increment_from = reader.optional(map, path, "increment_from", |r, v, p| {
        let text = r.string(v, p)?;
        ArgPath::parse(&text)
            .map_err(|message| r.errors.push(p, message))
            .ok()
            .map(|_| text)
    });
    let scope_ok = scope.is_some() || !map.contains_key("scope");
    let increment_ok = increment_from.is_some() || !map.contains_key("increment_from");
    let limit = Limit {
        counter: counter?,
        window: window?,
        max: max?,
        scope: scope.unwrap_or_default(),
        increment_from,
    };
    counters.register(&limit, path, &mut reader.errors);
    (scope_ok && increment_ok).then_some(limit)
}

pub(super) fn read_class_rule(
    reader: &mut Reader,
    counters: &mut CounterTable,
    value: &Value,
    path: &str,
) -> Option<ClassRule> {
    let mut fields = RULE_FIELDS.to_vec();
    fields.push("match");
    let map = reader.object(value, path, "a classification rule", &fields)?;
    let selector = reader.required(map, path, "match");
    let selector = selector.and_then(|v| read_class_match(reader, v, &format!("{path}/match")));
    let rule = read_rule_fields(reader, counters, map, path);
    Some(ClassRule {
        selector: selector?,
        rule,
    })
}

fn read_class_match(reader: &mut Reader, value: &Value, path: &str) -> Option<ClassMatch> {
    let fields = ["category", "risk", "risk_at_least"];
    let map = reader.object(value, path, "a classification selector", &fields)?;
    let selector = ClassMatch {
        category: reader.optional(map, path, "category", read_category),
        risk: reader.optional(map, path, "risk", read_risk),
        risk_at_least: reader.optional(map, path, "risk_at_least", read_risk),
    };
    if map.is_empty() {
        let message = "a selector needs at least one of: category, risk, risk_at_least";
        reader.errors.push(path, message);
    }
    Some(selector)
}

pub(super) fn read_category(reader: &mut Reader, value: &Value, path: &str) -> Option<Category> {
    let options = Category::ALL.map(|c| (c.as_str(), c));
    reader.one_of(value, path, "category", &options)
}

pub(super) fn read_risk(reader: &mut Reader, value: &Value, path: &str) -> Option<Risk> {
    let options = Risk::ALL.map(|r| (r.as_str(), r));
    reader.one_of(value, path, "risk level", &options)
}

pub(super) fn read_settings(reader: &mut Reader, value: &Value, path: &str) -> Option<Settings> {
    let fields = [
        "deny_response",
        "on_limiter_error",
        "approval_timeout",
        "audit_arguments",
        "audit",
    ];
    let map = reader.object(value, path, "the settings", &fields)?;
    let defaults = Settings::default();
    let responses = [
        ("tool_error", DenyResponse::ToolError),
        ("jsonrpc_error", DenyResponse::JsonrpcError),
    ];
    let audit = [("queued", AuditMode::Queued), ("strict", AuditMode::Strict)];
    let limiter = [
        ("fail_closed", LimiterErrorPolicy::FailClosed),
        ("fail_open", LimiterErrorPolicy::FailOpen),
    ];
    Some(Settings {
        deny_response: reader
            .optional(map, path, "deny_response", |r, v, p| {
                r.one_of(v, p, "deny_response", &responses)
            })
            .unwrap_or(defaults.deny_response),
        on_limiter_error: reader
            .optional(map, path, "on_limiter_error", |r, v, p| {
                r.one_of(v, p, "on_limiter_error", &limiter)
            })
            .unwrap_or(defaults.on_limiter_error),
        approval_timeout: reader
            .optional(map, path, "approval_timeout", |r, v, p| {
                let text = r.string(v, p)?;
                Span::parse(&text).map_err(|m| r.errors.push(p, m)).ok()
            })
            .unwrap_or(defaults.approval_timeout),
        audit_arguments: reader
            .optional(map, path, "audit_arguments", Reader::boolean)
            .unwrap_or(defaults.audit_arguments),
        audit: reader
            .optional(map, path, "audit", |r, v, p| {
                r.one_of(v, p, "audit", &audit)
            })
            .unwrap_or(defaults.audit),
    })
}
