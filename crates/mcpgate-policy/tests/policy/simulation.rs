//! Dry runs count like the proxy.

use mcpgate_policy::{simulate, Outcome, SimulatedCall};
use serde_json::json;

use super::{policy, SEED};

fn call(tool: &str, at: Option<u64>) -> SimulatedCall {
    serde_json::from_value(json!({"tool": tool, "grant_id": "g1", "at": at})).unwrap()
}

#[test]
fn the_eleventh_call_in_a_minute_hits_the_limit() {
    let policy = policy(serde_json::from_str(SEED).unwrap());
    let calls: Vec<SimulatedCall> = (0..11)
        .map(|i| call("k8s_run_pod", Some(1_000_020 + i)))
        .collect();
    let decisions = simulate(&policy, &calls);
    assert!(decisions[..10].iter().all(|d| d.outcome == Outcome::Allow));
    let last = &decisions[10];
    assert_eq!(last.outcome, Outcome::Deny);
    assert_eq!(&*last.rule, "/tools/k8s_run_pod/limits/0");
    // 1_000_020 is a whole minute since the epoch; 1_000_030 is 10s into it.
    assert!(
        last.reason
            .as_deref()
            .unwrap()
            .ends_with("Retry after 50s."),
        "{:?}",
        last.reason
    );
}

#[test]
fn windows_are_aligned_to_the_epoch_and_reset() {
    let policy = policy(serde_json::from_str(SEED).unwrap());
    // Ten calls at the end of one minute, ten at the start of the next: all allowed.
    let mut calls: Vec<SimulatedCall> = (0..10).map(|_| call("k8s_run_pod", Some(119))).collect();
    calls.extend((0..10).map(|_| call("k8s_run_pod", Some(120))));
    calls.push(call("k8s_run_pod", None));
    let decisions = simulate(&policy, &calls);
    assert!(decisions[..20].iter().all(|d| d.outcome == Outcome::Allow));
    assert_eq!(
        decisions[20].outcome,
        Outcome::Deny,
        "untimed calls reuse the last time"
    );
}

#[test]
fn a_refused_call_charges_none_of_its_counters() {
    let policy = policy(json!({"version": "1", "tools": {
        "small": {"limits": [{"counter": "small", "window": "day", "max": 1},
                             {"counter": "big", "window": "day", "max": 100}]},
        "big": {"limits": [{"counter": "big", "window": "day", "max": 100}]}}}));
    let calls = [call("small", Some(0)), call("small", Some(1))];
    let decisions = simulate(&policy, &calls);
    assert_eq!(decisions[1].outcome, Outcome::Deny);
    let spend: Vec<SimulatedCall> = (0..99).map(|_| call("big", Some(2))).collect();
    let mut all = calls.to_vec();
    all.extend(spend);
    let decisions = simulate(&policy, &all);
    assert!(
        decisions[2..].iter().all(|d| d.outcome == Outcome::Allow),
        "big has 99 left"
    );
}
