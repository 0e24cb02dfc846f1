//! Every validation error names its JSON Pointer and says what is allowed.

use mcpgate_policy::{parse, ValidationErrors};
use serde_json::json;

use super::{assert_error, errors};

#[test]
fn invalid_json_is_one_error_at_the_document() {
    let errors = parse("{\"version\": ").unwrap_err().errors;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "");
    assert!(errors[0].message.starts_with("not valid JSON"));
}

#[test]
fn unknown_fields_are_errors_everywhere() {
    let errors = errors(json!({"version": "1", "extra": 1,
        "tools": {"t": {"limit": [], "require": [{"path": "args.a", "op": "exists", "why": 1}]}},
        "all_tools": {"limits": [], "deny_if": []},
        "settings": {"unknown_tools": "deny"},
        "classes": [{"match": {"risk": "high", "level": 1}}],
        "tests": [{"call": {"tool": "t", "args": {}}, "expect": "allow"}]}));
    assert_error(
        &errors,
        "/extra",
        "unknown field `extra`; allowed fields here: version",
    );
    assert_error(&errors, "/tools/t/limit", "unknown field");
    assert_error(&errors, "/tools/t/require/0/why", "unknown field");
    assert_error(&errors, "/all_tools/deny_if", "allowed fields here: limits");
    assert_error(&errors, "/settings/unknown_tools", "unknown field");
    assert_error(&errors, "/classes/0/match/level", "unknown field");
    assert_error(&errors, "/tests/0/call/args", "unknown field");
}

#[test]
fn bad_names_say_what_is_allowed() {
    let errors = errors(json!({"version": "2", "default": "maybe", "mode": "audit",
        "tools": {"t": {"action": "block", "limits": [
            {"counter": "c", "window": "fortnight", "max": 1, "scope": "user"}],
            "require": [{"path": "args.a", "op": "startswith", "value": "x"}]}},
        "settings": {"deny_response": "http_403", "on_limiter_error": "retry",
                     "approval_timeout": "soon", "audit_arguments": "yes"}}));
    assert_error(&errors, "/version", "expected \"1\"");
    assert_error(&errors, "/default", "expected one of: allow, deny");
    assert_error(&errors, "/mode", "expected one of: enforce, shadow");
    assert_error(
        &errors,
        "/tools/t/action",
        "expected one of: allow, deny, require_approval",
    );
    assert_error(&errors, "/tools/t/limits/0/window", "bad window");
    assert_error(
        &errors,
        "/tools/t/limits/0/scope",
        "expected one of: grant, server, tenant",
    );
    assert_error(&errors, "/tools/t/require/0/op", "invalid operator");
    assert_error(
        &errors,
        "/settings/deny_response",
        "tool_error, jsonrpc_error",
    );
    assert_error(
        &errors,
        "/settings/on_limiter_error",
        "fail_closed, fail_open",
    );
    assert_error(&errors, "/settings/approval_timeout", "invalid duration");
    assert_error(
        &errors,
        "/settings/audit_arguments",
        "expected true or false",
    );
}

#[test]
fn limits_need_a_positive_max_a_valid_window_and_a_safe_counter_name() {
    let errors = errors(json!({"version": "1", "tools": {"t": {"limits": [
        {"counter": "a", "window": "minute", "max": 0},
        {"counter": "b", "window": "minute", "max": -3},
        {"counter": "c", "window": "minute", "max": 1.5},
        {"counter": "d", "window": "0s", "max": 1},
        {"counter": "bad:name}", "window": "minute", "max": 1},
        {"counter": "e", "window": "minute", "max": 1, "increment_from": "amount"},
        {"window": "minute"}]}}}));
    assert_error(&errors, "/tools/t/limits/0/max", "at least 1, got 0");
    assert_error(&errors, "/tools/t/limits/1/max", "got -3");
    assert_error(&errors, "/tools/t/limits/2/max", "whole number");
    assert_error(&errors, "/tools/t/limits/3/window", "bad window");
    assert_error(&errors, "/tools/t/limits/4/counter", "invalid counter name");
    assert_error(
        &errors,
        "/tools/t/limits/5/increment_from",
        "invalid argument path",
    );
    assert_error(
        &errors,
        "/tools/t/limits/6/counter",
        "missing required field",
    );
    assert_error(&errors, "/tools/t/limits/6/max", "missing required field");
}

#[test]
fn a_counter_used_with_two_windows_or_scopes_is_refused() {
    let errors = errors(json!({"version": "1", "tools": {
        "a": {"limits": [{"counter": "shared", "window": "minute", "max": 5}]},
        "b": {"limits": [{"counter": "shared", "window": "hour", "max": 5, "scope": "tenant"}]}}}));
    assert_error(&errors, "/tools/b/limits/0/window", "at /tools/a/limits/0");
    assert_error(&errors, "/tools/b/limits/0/scope", "shared budget");
}

#[test]
fn conditions_need_valid_paths_operands_and_regexes() {
    let errors = errors(json!({"version": "1", "tools": {"t": {"require": [
        {"path": "args.a", "op": "regex", "value": "("},
        {"path": "image", "op": "eq", "value": 1},
        {"path": "args.a", "op": "gt", "value": "10"},
        {"path": "args.a", "op": "in", "value": "a"},
        {"path": "args.a", "op": "eq"},
        {"path": "args.a", "op": "max_length", "value": -1}]}}}));
    assert_error(&errors, "/tools/t/require/0/value", "invalid regex");
    assert_error(
        &errors,
        "/tools/t/require/1/path",
        "invalid argument path `image`",
    );
    assert_error(&errors, "/tools/t/require/2/value", "needs a number");
    assert_error(&errors, "/tools/t/require/3/value", "needs an array");
    assert_error(&errors, "/tools/t/require/4/value", "needs a `value`");
    assert_error(&errors, "/tools/t/require/5/value", "whole number");
}

#[test]
fn bad_globs_and_names_are_refused() {
    let errors = errors(json!({"version": "1", "hide": ["ok", "a[b]"],
        "tools": {"k8s_{a,b}": {}, "send_email ": {}, "": {}}}));
    assert_error(&errors, "/hide/1", "bad glob");
    assert_error(&errors, "/tools/k8s_{a,b}", "bad glob");
    assert_error(&errors, "/tools/send_email ", "whitespace");
    assert_error(&errors, "/tools/", "cannot be empty");
}

#[test]
fn pointers_escape_slashes_and_tildes() {
    let errors = errors(json!({"version": "1", "tools": {"a/b~c": {"action": "nope"}}}));
    assert_error(&errors, "/tools/a~1b~0c/action", "invalid action");
}

#[test]
fn class_selectors_need_a_known_field() {
    let errors = errors(json!({"version": "1", "classes": [
        {"match": {}}, {"match": {"risk": "extreme"}}, {"action": "deny"}]}));
    assert_error(&errors, "/classes/0/match", "at least one of");
    assert_error(
        &errors,
        "/classes/1/match/risk",
        "low, medium, high, critical",
    );
    assert_error(&errors, "/classes/2/match", "missing required field");
}

#[test]
fn reason_and_on_deny_together_are_ambiguous() {
    let errors = errors(json!({"version": "1", "tools": {"t": {"reason": "a", "on_deny": "b"}}}));
    assert_error(&errors, "/tools/t/on_deny", "not both");
}

#[test]
fn failing_declared_tests_refuse_the_policy() {
    let errors = errors(
        json!({"version": "1", "default": "deny", "tools": {"read": {}},
        "tests": [{"call": {"tool": "read"}, "expect": "allow"},
                  {"name": "writes are held", "call": {"tool": "write"}, "expect": "require_approval"}]}),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_error(&errors, "/tests/1", "test `writes are held` fails");
    assert_error(&errors, "/tests/1", "(default deny)");
}

#[test]
fn all_errors_are_reported_not_just_the_first() {
    let errors = errors(
        json!({"version": 1, "default": "x", "tools": {"t": {"action": "y",
        "require": [{"path": "args.a", "op": "regex", "value": "["}]}}}),
    );
    assert_eq!(errors.len(), 4, "{errors:#?}");
}

#[test]
fn errors_serialise_as_a_422_body() {
    let errors: ValidationErrors = parse(r#"{"version": "1", "mode": 3}"#).unwrap_err();
    let body = serde_json::to_value(&errors).unwrap();
    assert_eq!(body["errors"][0]["path"], "/mode");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("enforce, shadow"));
    assert!(errors.to_string().contains("/mode"));
}

#[test]
fn serde_deserialisation_validates_like_parse() {
    let ok: Result<mcpgate_policy::Policy, _> = serde_json::from_str(super::SEED);
    assert!(ok.is_ok());
    let bad = serde_json::from_str::<mcpgate_policy::Policy>(r#"{"version": "1", "tols": {}}"#);
    assert!(bad.unwrap_err().to_string().contains("/tols"));
}
