//! Each feature of the language decides as documented.

use mcpgate_policy::{Category, Classification, Outcome, Risk, Scope};
use serde_json::json;

use super::{decide, decide_classified, policy, SEED};

#[test]
fn the_seed_document_is_accepted_and_charges_the_grant_counter() {
    let policy = policy(serde_json::from_str(SEED).unwrap());
    let decision = decide(&policy, "k8s_run_pod", json!({}));
    assert_eq!(decision.outcome, Outcome::Allow);
    assert_eq!(&*decision.rule, "/tools/k8s_run_pod");
    let charge = &decision.charges[0];
    assert_eq!(charge.key, "rl:{t1}:grant:g1:k8s_run_pod_rate");
    assert_eq!((charge.window_secs, charge.max, charge.cost), (60, 10, 1));
    assert_eq!(charge.scope, Scope::Grant);
    assert_eq!(&*charge.rule, "/tools/k8s_run_pod/limits/0");
    let other = decide(&policy, "k8s_delete_pod", json!({}));
    assert_eq!(other.outcome, Outcome::Deny);
    assert_eq!(&*other.rule, "(default deny)");
}

#[test]
fn an_empty_entry_allows_its_tool_under_default_deny() {
    let policy = policy(json!({"version": "1", "default": "deny", "tools": {"list_pods": {}}}));
    assert_eq!(
        decide(&policy, "list_pods", json!({})).outcome,
        Outcome::Allow
    );
    assert_eq!(
        decide(&policy, "LIST_PODS", json!({})).outcome,
        Outcome::Deny
    );
    assert_eq!(
        decide(&policy, "list_pods ", json!({})).outcome,
        Outcome::Deny
    );
}

#[test]
fn default_is_allow_when_omitted() {
    let policy = policy(json!({"version": "1"}));
    let decision = decide(&policy, "anything", json!({}));
    assert_eq!(decision.outcome, Outcome::Allow);
    assert_eq!(&*decision.rule, "(default allow)");
}

#[test]
fn hidden_tools_are_denied_and_point_at_their_entry() {
    let policy = policy(json!({"version": "1", "hide": ["drop_db", "admin_*"],
        "tools": {"drop_db": {}}}));
    let decision = decide(&policy, "drop_db", json!({}));
    assert_eq!(
        (decision.outcome, &*decision.rule),
        (Outcome::Deny, "/hide/0")
    );
    assert_eq!(&*decide(&policy, "admin_reset", json!({})).rule, "/hide/1");
    let all = super::policy(json!({"version": "1", "hide": "*"}));
    assert_eq!(&*decide(&all, "x", json!({})).rule, "/hide");
}

#[test]
fn require_conditions_must_all_hold() {
    let policy = policy(
        json!({"version": "1", "tools": {"k8s_run_pod": {"require": [
        {"path": "args.image", "op": "prefix", "value": "registry.internal/"},
        {"path": "args.namespace", "op": "not_in", "value": ["kube-system"],
         "on_deny": "System namespaces are off limits."}]}}}),
    );
    let ok = json!({"image": "registry.internal/app", "namespace": "web"});
    assert_eq!(decide(&policy, "k8s_run_pod", ok).outcome, Outcome::Allow);
    let bad_image = decide(
        &policy,
        "k8s_run_pod",
        json!({"image": "docker.io/x", "namespace": "web"}),
    );
    assert_eq!(&*bad_image.rule, "/tools/k8s_run_pod/require/0");
    assert_eq!(
        bad_image.reason.as_deref(),
        Some("Argument `args.image` must start with \"registry.internal/\".")
    );
    let system = decide(
        &policy,
        "k8s_run_pod",
        json!({"image": "registry.internal/a", "namespace": "kube-system"}),
    );
    assert_eq!(
        system.reason.as_deref(),
        Some("System namespaces are off limits.")
    );
    let missing = decide(
        &policy,
        "k8s_run_pod",
        json!({"image": "registry.internal/a"}),
    );
    assert_eq!(
        &*missing.rule, "/tools/k8s_run_pod/require/1",
        "missing arguments fail closed"
    );
}

#[test]
fn deny_if_denies_when_any_condition_holds() {
    let policy = policy(json!({"version": "1", "tools": {"run": {"deny_if": [
        {"path": "args.spec.containers.0.image", "op": "regex", "value": ":latest$"},
        {"path": "args.replicas", "op": "gt", "value": 5}]}}}));
    let latest = json!({"spec": {"containers": [{"image": "app:latest"}]}});
    assert_eq!(
        &*decide(&policy, "run", latest).rule,
        "/tools/run/deny_if/0"
    );
    let spec = json!({"containers": [{"image": "app:1.2"}]});
    assert_eq!(
        &*decide(&policy, "run", json!({"spec": spec, "replicas": 6})).rule,
        "/tools/run/deny_if/1"
    );
    assert_eq!(
        decide(&policy, "run", json!({"spec": spec, "replicas": 5})).outcome,
        Outcome::Allow
    );
    let missing = decide(&policy, "run", json!({"spec": spec}));
    assert_eq!(
        (missing.outcome, &*missing.rule),
        (Outcome::Deny, "/tools/run/deny_if/1"),
        "a deny_if whose argument is missing fails closed"
    );
}

#[test]
fn every_operator_decides_as_documented() {
    let cases = [
        ("eq", json!(1), json!(1.0), true),
        ("eq", json!("a"), json!("b"), false),
        ("neq", json!("a"), json!("b"), true),
        ("in", json!(["a", "b"]), json!("b"), true),
        ("not_in", json!(["a"]), json!("a"), false),
        ("lt", json!(10), json!(9.5), true),
        ("lte", json!(10), json!(10), true),
        ("gt", json!(10), json!(10), false),
        ("gte", json!(-1), json!(-1), true),
        ("lt", json!(10), json!("5"), false),
        ("regex", json!("^a+$"), json!("aaa"), true),
        ("contains", json!("b"), json!("abc"), true),
        ("contains", json!(2), json!([1, 2]), true),
        ("prefix", json!("ab"), json!("abc"), true),
        ("max_length", json!(3), json!("héé"), true),
        ("max_length", json!(2), json!([1, 2, 3]), false),
        ("exists", json!(true), json!(null), true),
    ];
    for (op, value, actual, holds) in cases {
        let policy = policy(json!({"version": "1", "tools": {"t": {"require": [
            {"path": "args.x", "op": op, "value": value}]}}}));
        let outcome = decide(&policy, "t", json!({"x": actual})).outcome;
        let expected = if holds { Outcome::Allow } else { Outcome::Deny };
        assert_eq!(outcome, expected, "{op} {value} on {actual}");
    }
    let absent = policy(json!({"version": "1", "tools": {"t": {"require": [
        {"path": "args.x", "op": "exists", "value": false}]}}}));
    assert_eq!(decide(&absent, "t", json!({})).outcome, Outcome::Allow);
    assert_eq!(decide(&absent, "t", json!({"x": 1})).outcome, Outcome::Deny);
}

#[test]
fn actions_deny_and_require_approval_with_reasons() {
    let policy = policy(json!({"version": "1", "tools": {
        "delete_file": {"action": "deny", "reason": "Deleting files is not allowed."},
        "refund": {"action": "require_approval", "limits": [
            {"counter": "refunds", "window": "day", "max": 5}]}}}));
    let denied = decide(&policy, "delete_file", json!({}));
    assert_eq!(
        (denied.outcome, &*denied.rule),
        (Outcome::Deny, "/tools/delete_file")
    );
    assert_eq!(
        denied.reason.as_deref(),
        Some("Deleting files is not allowed.")
    );
    let held = decide(&policy, "refund", json!({}));
    assert_eq!(held.outcome, Outcome::RequireApproval);
    assert_eq!(held.charges.len(), 1);
}

#[test]
fn precedence_is_exact_then_longest_glob_then_class_then_default() {
    let policy = policy(json!({"version": "1", "default": "deny",
        "tools": {
            "k8s_delete_pod": {},
            "k8s_delete_*": {"action": "require_approval"},
            "k8s_*": {"action": "deny"},
            "*_pod": {"action": "deny"}},
        "classes": [
            {"match": {"category": "read"}},
            {"match": {"risk_at_least": "high"}, "action": "deny"},
            {"match": {"risk": "low"}, "action": "require_approval"}]}));
    let class = |category, risk| Some(Classification { category, risk });
    assert_eq!(
        &*decide(&policy, "k8s_delete_pod", json!({})).rule,
        "/tools/k8s_delete_pod"
    );
    assert_eq!(
        &*decide(&policy, "k8s_delete_svc", json!({})).rule,
        "/tools/k8s_delete_*"
    );
    assert_eq!(
        &*decide(&policy, "k8s_get_pod", json!({})).rule,
        "/tools/k8s_*"
    );
    assert_eq!(&*decide(&policy, "run_pod", json!({})).rule, "/tools/*_pod");
    let read_critical = decide_classified(
        &policy,
        "cat",
        class(Category::Read, Risk::Critical),
        json!({}),
    );
    assert_eq!(
        &*read_critical.rule, "/classes/0",
        "first matching class wins"
    );
    let exec_high = decide_classified(
        &policy,
        "sh",
        class(Category::Execute, Risk::High),
        json!({}),
    );
    assert_eq!(&*exec_high.rule, "/classes/1");
    let exec_low = decide_classified(
        &policy,
        "sh",
        class(Category::Execute, Risk::Low),
        json!({}),
    );
    assert_eq!(exec_low.outcome, Outcome::RequireApproval);
    let medium = decide_classified(
        &policy,
        "sh",
        class(Category::Write, Risk::Medium),
        json!({}),
    );
    assert_eq!(&*medium.rule, "(default deny)");
    let glob_beats_class = decide_classified(
        &policy,
        "k8s_x",
        class(Category::Read, Risk::Low),
        json!({}),
    );
    assert_eq!(&*glob_beats_class.rule, "/tools/k8s_*");
}

#[test]
fn shadow_mode_reports_the_would_be_decision_but_lets_the_call_through() {
    let policy = policy(json!({"version": "1", "default": "deny", "mode": "shadow",
        "tools": {"enforced": {"mode": "enforce", "action": "deny"},
                  "quota": {"limits": [{"counter": "q", "window": "minute", "max": 1}]}}}));
    let unlisted = decide(&policy, "unlisted", json!({}));
    assert_eq!(
        (unlisted.outcome, unlisted.decided, unlisted.shadow),
        (Outcome::Allow, Outcome::Deny, true)
    );
    let enforced = decide(&policy, "enforced", json!({}));
    assert_eq!((enforced.outcome, enforced.shadow), (Outcome::Deny, false));
    assert!(decide(&policy, "quota", json!({})).charges[0].shadow);
}

#[test]
fn settings_have_defaults_and_can_be_chosen() {
    let defaults = policy(json!({"version": "1"}));
    let settings = defaults.settings();
    assert_eq!(
        settings.deny_response,
        mcpgate_policy::DenyResponse::ToolError
    );
    assert_eq!(
        settings.on_limiter_error,
        mcpgate_policy::LimiterErrorPolicy::FailClosed
    );
    assert_eq!(settings.approval_timeout().as_secs(), 300);
    assert!(!settings.audit_arguments);
    let chosen = policy(
        json!({"version": "1", "settings": {"deny_response": "jsonrpc_error",
        "on_limiter_error": "fail_open", "approval_timeout": "90s", "audit_arguments": true}}),
    );
    let settings = chosen.settings();
    assert_eq!(
        settings.deny_response,
        mcpgate_policy::DenyResponse::JsonrpcError
    );
    assert_eq!(
        settings.on_limiter_error,
        mcpgate_policy::LimiterErrorPolicy::FailOpen
    );
    assert_eq!(settings.approval_timeout().as_secs(), 90);
    assert!(settings.audit_arguments);
}

#[test]
fn passing_declared_tests_let_the_policy_in() {
    policy(
        json!({"version": "1", "default": "deny", "tools": {"read": {}},
        "tests": [
            {"name": "reads pass", "call": {"tool": "read"}, "expect": "allow"},
            {"call": {"tool": "write", "arguments": {"a": 1}}, "expect": "deny"},
            {"call": {"tool": "x", "classification": {"category": "read", "risk": "low"}},
             "expect": "deny"}]}),
    );
}
