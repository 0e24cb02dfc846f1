//! Combining decisions, limit denials, and what `tools/list` shows.

use mcpgate_policy::{
    combine, filter_tools, visible, Category, Classification, Decision, Outcome, Risk,
};
use serde_json::json;

use super::{decide, policy, SEED};

#[test]
fn limit_exceeded_builds_the_deny_the_proxy_sends() {
    let policy = policy(serde_json::from_str(SEED).unwrap());
    let charge = decide(&policy, "k8s_run_pod", json!({})).charges.remove(0);
    let denied = Decision::limit_exceeded(&charge, 23);
    assert_eq!(denied.outcome, Outcome::Deny);
    assert_eq!(&*denied.rule, "/tools/k8s_run_pod/limits/0");
    assert_eq!(
        denied.reason.as_deref(),
        Some("Rate limit exceeded for counter 'k8s_run_pod_rate': 10 per minute (scope: grant). Retry after 23s.")
    );
    assert!(denied.charges.is_empty());
}

#[test]
fn a_shadowed_limit_reports_but_does_not_block() {
    let policy = policy(
        json!({"version": "1", "mode": "shadow", "tools": {"t": {"limits": [
        {"counter": "spend", "window": "90s", "max": 5, "increment_from": "args.n"}]}}}),
    );
    let charge = decide(&policy, "t", json!({"n": 1})).charges.remove(0);
    let decision = Decision::limit_exceeded(&charge, 1);
    assert_eq!(
        (decision.outcome, decision.decided, decision.shadow),
        (Outcome::Allow, Outcome::Deny, true)
    );
    assert!(decision
        .reason
        .unwrap()
        .starts_with("Spend cap exceeded for counter 'spend': 5 per 90s"));
}

#[test]
fn combine_takes_the_stricter_decision_and_the_union_of_charges() {
    let server = policy(json!({"version": "1", "tools": {"t": {"limits": [
        {"counter": "a", "window": "minute", "max": 10}]}, "held": {"action": "require_approval"}}}));
    let grant = policy(json!({"version": "1", "tools": {"t": {"limits": [
        {"counter": "b", "window": "hour", "max": 3}, {"counter": "a", "window": "minute", "max": 4}]},
        "held": {}, "denied": {"action": "deny"}}}));
    let both = combine(
        decide(&server, "t", json!({})),
        decide(&grant, "t", json!({})),
    );
    assert_eq!(both.outcome, Outcome::Allow);
    let summary: Vec<(&str, u64)> = both.charges.iter().map(|c| (&*c.counter, c.max)).collect();
    assert_eq!(summary, [("a", 4), ("b", 3)]);
    let held = combine(
        decide(&server, "held", json!({})),
        decide(&grant, "held", json!({})),
    );
    assert_eq!(held.outcome, Outcome::RequireApproval);
    let denied = combine(
        decide(&server, "denied", json!({})),
        decide(&grant, "denied", json!({})),
    );
    assert_eq!(
        (denied.outcome, &*denied.rule),
        (Outcome::Deny, "/tools/denied")
    );
    assert!(denied.charges.is_empty());
}

#[test]
fn combine_keeps_a_shadowed_deny_visible() {
    let server =
        policy(json!({"version": "1", "tools": {"t": {"action": "deny", "mode": "shadow"}}}));
    let grant = policy(json!({"version": "1"}));
    let both = combine(
        decide(&grant, "t", json!({})),
        decide(&server, "t", json!({})),
    );
    assert_eq!(
        (both.outcome, both.decided),
        (Outcome::Allow, Outcome::Deny)
    );
}

#[test]
fn tools_list_hides_hidden_and_outright_denied_tools_only() {
    let policy = policy(
        json!({"version": "1", "default": "deny", "hide": ["secret_*"],
        "tools": {"read": {"require": [{"path": "args.x", "op": "exists"}]},
                  "quota": {"limits": [{"counter": "q", "window": "day", "max": 1}]},
                  "nope": {"action": "deny"}, "held": {"action": "require_approval"},
                  "trial": {"action": "deny", "mode": "shadow"}},
        "classes": [{"match": {"category": "read"}}]}),
    );
    let mut tools = vec![
        "read",
        "quota",
        "nope",
        "held",
        "trial",
        "secret_key",
        "unknown",
    ];
    filter_tools(&policy, &mut tools, |name| (name, None));
    assert_eq!(tools, ["read", "quota", "held", "trial"]);
    let read = Some(Classification {
        category: Category::Read,
        risk: Risk::Low,
    });
    assert!(visible(&policy, "cat", read));
    assert!(!visible(&policy, "cat", None));
}

#[test]
fn a_compiled_policy_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<mcpgate_policy::CompiledPolicy>();
    shareable::<std::sync::Arc<mcpgate_policy::CompiledPolicy>>();
}
