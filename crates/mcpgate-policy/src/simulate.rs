//! Dry runs: a sequence of calls against an in-memory counter table that
//! behaves like the proxy's, and the declared tests a policy must pass.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::classification::Classification;
use crate::compile::CompiledPolicy;
use crate::decision::{Decision, Outcome};
use crate::document::{TestCall, TestCase};
use crate::error::Errors;
use crate::evaluate::{evaluate, ToolCall};
use crate::method::{evaluate_method, MethodCall};

/// One call of a dry run, owned so it can come from a request body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedCall {
    /// The tenant (empty when omitted).
    #[serde(default)]
    pub tenant_id: String,
    /// The upstream server (empty when omitted).
    #[serde(default)]
    pub server_id: String,
    /// The grant (empty when omitted).
    #[serde(default)]
    pub grant_id: String,
    /// The tool's name.
    pub tool: String,
    /// The tool's classification, if known.
    #[serde(default)]
    pub classification: Option<Classification>,
    /// The call's arguments.
    #[serde(default)]
    pub arguments: Value,
    /// When the call happens, in Unix seconds (UTC); when omitted, the previous
    /// call's time (0 for the first), so untimed calls share their windows.
    #[serde(default)]
    pub at: Option<u64>,
}

/// Decides each call in order, charging counters like the proxy would: every
/// counter of a call is checked, and only if all have room are all charged.
/// Calls that require approval are assumed approved (their charges count).
pub fn simulate(policy: &CompiledPolicy, calls: &[SimulatedCall]) -> Vec<Decision> {
    let mut used: HashMap<(String, u64, u64), u64> = HashMap::new();
    let mut now = 0;
    calls
        .iter()
        .map(|simulated| {
            now = simulated.at.unwrap_or(now);
            let call = ToolCall {
                tenant_id: &simulated.tenant_id,
                server_id: &simulated.server_id,
                grant_id: &simulated.grant_id,
                tool: &simulated.tool,
                classification: simulated.classification,
                arguments: &simulated.arguments,
            };
            let decision = evaluate(policy, &call);
            let bucket = |window: u64| now / window;
            let full = decision.charges.iter().find(|charge| {
                let slot = (
                    charge.key.clone(),
                    charge.window_secs,
                    bucket(charge.window_secs),
                );
                let count = used.get(&slot).copied().unwrap_or(0);
                !charge.shadow && count.saturating_add(charge.cost) > charge.max
            });
            if let Some(charge) = full {
                let window = charge.window_secs;
                let retry_after = (bucket(window) + 1).saturating_mul(window) - now;
                return Decision::limit_exceeded(charge, retry_after);
            }
            for charge in &decision.charges {
                let slot = (
                    charge.key.clone(),
                    charge.window_secs,
                    bucket(charge.window_secs),
                );
                let count = used.entry(slot).or_insert(0);
                *count = count.saturating_add(charge.cost);
            }
            decision
        })
        .collect()
}

/// Runs the document's `tests`, each on its own (no counters), recording a failure
/// at `/tests/<index>`. Tests compare the would-be outcome, so they hold in shadow mode.
pub(crate) fn run_declared_tests(policy: &CompiledPolicy, tests: &[TestCase], errors: &mut Errors) {
    let empty = Value::Object(Default::default());
    let (tenant_id, server_id, grant_id) = ("test-tenant", "test-server", "test-grant");
    for (index, test) in tests.iter().enumerate() {
        let (what, decision) = match &test.call {
            TestCall::Tool(call) => {
                let call = ToolCall {
                    tenant_id,
                    server_id,
                    grant_id,
                    tool: &call.tool,
                    classification: call.classification,
                    arguments: call.arguments.as_ref().unwrap_or(&empty),
                };
                (format!("calling `{}`", call.tool), evaluate(policy, &call))
            }
            TestCall::Method(call) => {
                let request = MethodCall {
                    tenant_id,
                    server_id,
                    grant_id,
                    method: &call.method,
                    target: None,
                    params: call.params.as_ref().unwrap_or(&empty),
                    known: call.known,
                };
                let what = format!("requesting `{}`", call.method);
                (what, evaluate_method(policy, &request))
            }
        };
        if decision.decided != test.expect {
            let name = test
                .name
                .as_deref()
                .map_or_else(String::new, |n| format!(" `{n}`"));
            let reason = decision
                .reason
                .as_deref()
                .map_or_else(String::new, |r| format!(": {r}"));
            let message = format!(
                "declared test{name} fails: {what} should {} but the policy decides {} \
                 (rule {}{reason})",
                outcome_name(test.expect),
                outcome_name(decision.decided),
                decision.rule,
            );
            errors.push(&format!("/tests/{index}"), message);
        }
    }
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allow => "allow",
        Outcome::Deny => "deny",
        Outcome::RequireApproval => "require_approval",
    }
}
