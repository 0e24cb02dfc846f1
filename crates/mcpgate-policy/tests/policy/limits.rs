//! Limits: charges, shared counters, spend caps and windows.

use mcpgate_policy::Outcome;
use serde_json::json;

use super::{decide, policy};

#[test]
fn spend_caps_charge_the_amount_rounded_up_and_deny_bad_amounts() {
    let policy = policy(json!({"version": "1", "tools": {"charge": {"limits": [
        {"counter": "spend", "window": "day", "max": 50000, "scope": "tenant",
         "increment_from": "args.amount"}]}}}));
    let charge = |amount| decide(&policy, "charge", json!({"amount": amount}));
    assert_eq!(charge(json!(1200)).charges[0].cost, 1200);
    assert_eq!(charge(json!(12.01)).charges[0].cost, 13);
    assert_eq!(charge(json!(0)).charges[0].cost, 0);
    assert_eq!(
        charge(json!(1200)).charges[0].key,
        "rl:{t1}:tenant:t1:spend"
    );
    for bad in [json!(-1), json!("12"), json!(null)] {
        let decision = charge(bad);
        assert_eq!(decision.outcome, Outcome::Deny);
        assert_eq!(&*decision.rule, "/tools/charge/limits/0");
        assert!(decision.reason.unwrap().contains("args.amount"));
    }
    assert_eq!(decide(&policy, "charge", json!({})).outcome, Outcome::Deny);
}

#[test]
fn shared_counters_and_all_tools_limits_are_charged_once_per_key() {
    let policy = policy(json!({"version": "1",
        "all_tools": {"limits": [{"counter": "calls", "window": "hour", "max": 100, "scope": "server"}]},
        "tools": {
            "a": {"limits": [{"counter": "writes", "window": "minute", "max": 5}]},
            "b": {"limits": [{"counter": "writes", "window": "minute", "max": 5},
                             {"counter": "calls", "window": "hour", "max": 100, "scope": "server"}]}}}));
    let a = decide(&policy, "a", json!({}));
    let keys: Vec<&str> = a.charges.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["rl:{t1}:grant:g1:writes", "rl:{t1}:server:s1:calls"]);
    assert_eq!(decide(&policy, "b", json!({})).charges.len(), 2);
    assert_eq!(decide(&policy, "unlisted", json!({})).charges.len(), 1);
}

#[test]
fn durations_give_window_lengths() {
    let policy = policy(json!({"version": "1", "tools": {"t": {"limits": [
        {"counter": "a", "window": "90s", "max": 1},
        {"counter": "b", "window": "15m", "max": 1},
        {"counter": "c", "window": "second", "max": 1},
        {"counter": "d", "window": "2d", "max": 1}]}}}));
    let windows: Vec<u64> = decide(&policy, "t", json!({}))
        .charges
        .iter()
        .map(|c| c.window_secs)
        .collect();
    assert_eq!(windows, [90, 900, 1, 172_800]);
}
