//! Methods other than `tools/call`: the `methods` section, the default for known
//! methods, and the refusal of unknown ones.

use mcpgate_policy::{
    combine, evaluate_method, simulate, Decision, MethodCall, Outcome, SimulatedCall,
    UNKNOWN_METHOD_RULE,
};
use serde_json::{json, Value};

use super::{assert_error, decide, errors, policy};

/// Decides a request from tenant `t1`, server `s1`, grant `g1`.
fn request(policy: &mcpgate_policy::CompiledPolicy, method: &str, params: Value) -> Decision {
    request_as(policy, method, true, params)
}

fn request_as(
    policy: &mcpgate_policy::CompiledPolicy,
    method: &str,
    known: bool,
    params: Value,
) -> Decision {
    let target = params.get("uri").and_then(Value::as_str);
    let call = MethodCall {
        tenant_id: "t1",
        server_id: "s1",
        grant_id: "g1",
        method,
        target,
        params: &params,
        known,
    };
    evaluate_method(policy, &call)
}

#[test]
fn a_method_rule_allows_and_denies_like_a_tool_rule() {
    let policy = policy(json!({"version": "1", "default": "deny", "methods": {
        "resources/read": {},
        "prompts/get": {"action": "deny", "reason": "No prompts for agents."},
        "completion/complete": {"action": "require_approval"}}}));
    let read = request(&policy, "resources/read", json!({"uri": "file:///a"}));
    assert_eq!(
        (read.outcome, &*read.rule),
        (Outcome::Allow, "/methods/resources~1read")
    );
    let prompt = request(&policy, "prompts/get", json!({"name": "greet"}));
    assert_eq!(
        (prompt.outcome, &*prompt.rule),
        (Outcome::Deny, "/methods/prompts~1get")
    );
    assert_eq!(prompt.reason.as_deref(), Some("No prompts for agents."));
    let held = request(&policy, "completion/complete", json!({}));
    assert_eq!(held.outcome, Outcome::RequireApproval);
}

#[test]
fn a_method_rule_denied_without_a_reason_says_it_is_a_method() {
    let policy = policy(json!({"version": "1", "methods": {"prompts/get": {"action": "deny"}}}));
    let decision = request(&policy, "prompts/get", json!({}));
    assert_eq!(
        decision.reason.as_deref(),
        Some("This method is denied by policy.")
    );
}

#[test]
fn method_conditions_read_the_params_as_args() {
    let policy = policy(
        json!({"version": "1", "methods": {"resources/read": {"require": [
        {"path": "args.uri", "op": "prefix", "value": "file:///public/"}]}}}),
    );
    let public = request(
        &policy,
        "resources/read",
        json!({"uri": "file:///public/a.txt"}),
    );
    assert_eq!(public.outcome, Outcome::Allow);
    let secret = request(
        &policy,
        "resources/read",
        json!({"uri": "file:///etc/passwd"}),
    );
    assert_eq!(
        (secret.outcome, &*secret.rule),
        (Outcome::Deny, "/methods/resources~1read/require/0")
    );
    assert_eq!(
        secret.reason.as_deref(),
        Some("Argument `args.uri` must start with \"file:///public/\".")
    );
    let confused = request(
        &policy,
        "resources/read",
        json!({"uri": ["file:///public/a"]}),
    );
    assert_eq!(
        confused.outcome,
        Outcome::Deny,
        "type confusion fails closed here too"
    );
    let none = request(&policy, "resources/read", Value::Null);
    assert_eq!(none.outcome, Outcome::Deny);
    assert!(none.reason.unwrap().contains("is missing"));
}

#[test]
fn method_limits_charge_counters_shared_with_tool_rules_but_not_all_tools() {
    let policy = policy(json!({"version": "1",
        "all_tools": {"limits": [{"counter": "every_call", "window": "minute", "max": 100}]},
        "tools": {"search": {"limits": [{"counter": "reads", "window": "minute", "max": 3}]}},
        "methods": {"resources/read": {"limits": [
            {"counter": "reads", "window": "minute", "max": 3}]}}}));
    let read = request(&policy, "resources/read", json!({"uri": "file:///a"}));
    let counters: Vec<(&str, &str)> = read
        .charges
        .iter()
        .map(|c| (&*c.counter, c.key.as_str()))
        .collect();
    assert_eq!(counters, [("reads", "rl:{t1}:grant:g1:reads")]);
    let search = decide(&policy, "search", json!({}));
    assert!(
        search.charges.iter().any(|c| c.key == read.charges[0].key),
        "one budget for the tool and the method"
    );
    // A dry run of a document with methods still counts its tool calls.
    let calls: Vec<SimulatedCall> = (0..4)
        .map(|_| serde_json::from_value(json!({"tool": "search", "grant_id": "g1"})).unwrap())
        .collect();
    assert_eq!(simulate(&policy, &calls)[3].outcome, Outcome::Deny);
}

#[test]
fn a_counter_shared_with_a_tool_rule_must_agree_on_its_window() {
    let errors = errors(json!({"version": "1",
        "tools": {"search": {"limits": [{"counter": "reads", "window": "minute", "max": 3}]}},
        "methods": {"resources/read": {"limits": [
            {"counter": "reads", "window": "hour", "max": 3}]}}}));
    assert_error(
        &errors,
        "/methods/resources~1read/limits/0/window",
        "at /tools/search/limits/0",
    );
}

#[test]
fn a_spend_cap_on_a_method_reads_its_amount_from_the_params() {
    let policy = policy(json!({"version": "1", "methods": {"tasks/*": {"limits": [
        {"counter": "task_units", "window": "day", "max": 50, "increment_from": "args.units"}]}}}));
    let charged = request(&policy, "tasks/get", json!({"units": 7}));
    assert_eq!(charged.charges[0].cost, 7);
    let unusable = request(&policy, "tasks/get", json!({"units": "7"}));
    assert_eq!(unusable.outcome, Outcome::Deny);
}

#[test]
fn a_known_method_no_key_selects_follows_the_default() {
    let deny = policy(json!({"version": "1", "default": "deny", "methods": {"prompts/get": {}}}));
    let decision = request(&deny, "resources/read", json!({}));
    assert_eq!(
        (decision.outcome, &*decision.rule),
        (Outcome::Deny, "(default deny)")
    );
    assert_eq!(
        decision.reason.as_deref(),
        Some("method resources/read is not allowed by this policy (default: deny)")
    );
    let allow = policy(json!({"version": "1",
        "all_tools": {"limits": [{"counter": "every_call", "window": "minute", "max": 1}]}}));
    let decision = request(&allow, "resources/read", json!({}));
    assert_eq!(
        (decision.outcome, &*decision.rule),
        (Outcome::Allow, "(default allow)")
    );
    assert!(decision.charges.is_empty());
    let tool = decide(&allow, "anything", json!({}));
    assert_eq!(tool.charges.len(), 1, "all_tools limits still charge tools");
}

#[test]
fn an_unknown_method_is_denied_whatever_the_default_unless_named() {
    let policy = policy(json!({"version": "1", "default": "allow",
        "methods": {"vendor/*": {}}}));
    let decision = request_as(&policy, "admin/shutdown", false, json!({}));
    assert_eq!(
        (decision.outcome, &*decision.rule),
        (Outcome::Deny, UNKNOWN_METHOD_RULE)
    );
    assert_eq!(
        decision.reason.as_deref(),
        Some(
            "unknown method admin/shutdown: not allowed unless the policy's methods section \
             names it"
        )
    );
    let named = request_as(&policy, "vendor/export", false, json!({}));
    assert_eq!(
        (named.outcome, &*named.rule),
        (Outcome::Allow, "/methods/vendor~1*")
    );
    let known = request_as(&policy, "admin/shutdown", true, json!({}));
    assert_eq!(
        known.outcome,
        Outcome::Allow,
        "the same name, known, gets the default"
    );
}

#[test]
fn method_keys_are_exact_names_before_the_most_specific_glob() {
    let policy = policy(json!({"version": "1", "methods": {
        "resources/read": {},
        "resources/*": {"action": "deny"},
        "*": {"action": "require_approval"}}}));
    let rule = |method: &str| request(&policy, method, json!({})).rule;
    assert_eq!(&*rule("resources/read"), "/methods/resources~1read");
    assert_eq!(&*rule("resources/subscribe"), "/methods/resources~1*");
    assert_eq!(&*rule("prompts/get"), "/methods/*");
    assert_eq!(
        &*rule("Resources/read"),
        "/methods/*",
        "names match exactly"
    );
}

#[test]
fn shadow_mode_reports_method_denials_and_lets_them_through() {
    let policy = policy(json!({"version": "1", "mode": "shadow", "default": "deny",
        "methods": {"prompts/get": {"action": "deny"}}}));
    for (method, known) in [
        ("prompts/get", true),
        ("resources/read", true),
        ("x/y", false),
    ] {
        let decision = request_as(&policy, method, known, json!({}));
        assert_eq!(
            (decision.outcome, decision.decided, decision.shadow),
            (Outcome::Allow, Outcome::Deny, true),
            "{method}"
        );
    }
    let rule_shadow = super::policy(json!({"version": "1",
        "methods": {"prompts/get": {"action": "deny", "mode": "shadow"}}}));
    let decision = request(&rule_shadow, "prompts/get", json!({}));
    assert_eq!(
        (decision.outcome, decision.decided),
        (Outcome::Allow, Outcome::Deny)
    );
}

#[test]
fn a_grant_policy_narrows_a_method_like_a_tool() {
    let server = policy(
        json!({"version": "1", "methods": {"resources/read": {"limits": [
        {"counter": "reads", "window": "minute", "max": 10}]}}}),
    );
    let grant = policy(
        json!({"version": "1", "methods": {"resources/read": {"deny_if": [
        {"path": "args.uri", "op": "prefix", "value": "file:///secret/"}]}}}),
    );
    let both = |uri: &str| {
        let params = json!({ "uri": uri });
        combine(
            request(&server, "resources/read", params.clone()),
            request(&grant, "resources/read", params),
        )
    };
    let open = both("file:///a");
    assert_eq!((open.outcome, open.charges.len()), (Outcome::Allow, 1));
    let secret = both("file:///secret/key");
    assert_eq!(
        (secret.outcome, &*secret.rule),
        (Outcome::Deny, "/methods/resources~1read/deny_if/0")
    );
    assert!(secret.charges.is_empty());
}

#[test]
fn hide_on_a_method_rule_is_refused_at_its_pointer() {
    let errors = errors(json!({"version": "1", "methods": {
        "resources/read": {"hide": true}}}));
    assert_error(
        &errors,
        "/methods/resources~1read/hide",
        "a method cannot be hidden",
    );
}

#[test]
fn method_keys_are_checked_like_tool_keys_and_tools_call_is_refused() {
    let errors = errors(json!({"version": "1", "methods": {
        "tools/call": {},
        "resources/{read}": {},
        "prompts/get ": {},
        "completion/complete": {"lmits": []}}}));
    assert_error(
        &errors,
        "/methods/tools~1call",
        "decided by the `tools` rules",
    );
    assert_error(&errors, "/methods/resources~1{read}", "bad glob");
    assert_error(&errors, "/methods/prompts~1get ", "whitespace");
    assert_error(
        &errors,
        "/methods/completion~1complete/lmits",
        "unknown field `lmits`",
    );
    let not_an_object = super::errors(json!({"version": "1", "methods": []}));
    assert_error(&not_an_object, "/methods", "method names or globs");
}

#[test]
fn declared_tests_can_name_a_method() {
    let document = json!({"version": "1", "default": "deny",
        "methods": {"resources/read": {"require": [
            {"path": "args.uri", "op": "prefix", "value": "file:///public/"}]}},
        "tests": [
            {"call": {"method": "resources/read", "params": {"uri": "file:///public/a"}},
             "expect": "allow"},
            {"call": {"method": "resources/read", "params": {"uri": "file:///etc/passwd"}},
             "expect": "deny"},
            {"call": {"method": "prompts/get"}, "expect": "deny"},
            {"call": {"method": "x/y", "known": false}, "expect": "deny"},
            {"call": {"tool": "anything"}, "expect": "deny"}]});
    let compiled = policy(document.clone());
    assert_eq!(
        request(
            &compiled,
            "resources/read",
            json!({"uri": "file:///public/a"})
        )
        .outcome,
        Outcome::Allow
    );
    let mut failing = document;
    failing["tests"][2]["expect"] = json!("allow");
    let errors = errors(failing);
    assert_error(
        &errors,
        "/tests/2",
        "requesting `prompts/get` should allow but the policy decides deny",
    );
}

#[test]
fn a_declared_test_call_is_a_tool_or_a_method_not_both() {
    let errors = errors(json!({"version": "1", "tests": [
        {"call": {"tool": "t", "method": "resources/read"}, "expect": "allow"},
        {"call": {"method": "resources/read", "arguments": {}}, "expect": "allow"},
        {"call": {"method": "resources/read", "known": "yes"}, "expect": "allow"}]}));
    assert_error(&errors, "/tests/0/call/method", "not both");
    assert_error(
        &errors,
        "/tests/1/call/arguments",
        "allowed fields here: method, params, known",
    );
    assert_error(&errors, "/tests/2/call/known", "expected true or false");
}
