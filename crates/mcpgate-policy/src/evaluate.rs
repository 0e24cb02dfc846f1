//! Deciding one call: select the rule by precedence, test its conditions, and
//! list the counters to charge. Reads the compiled policy only; never panics.

use std::sync::Arc;

use serde_json::Value;

use crate::classification::Classification;
use crate::compile::{CompiledLimit, CompiledPolicy, CompiledRule};
use crate::condition::Check;
use crate::decision::{merge_charge, Decision, Outcome};
use crate::document::{Action, ClassMatch, DefaultAction};

/// One `tools/call`, as the engine sees it. Borrowed: building it costs nothing.
#[derive(Debug, Clone, Copy)]
pub struct ToolCall<'a> {
    /// The tenant the call belongs to.
    pub tenant_id: &'a str,
    /// The upstream MCP server it goes to.
    pub server_id: &'a str,
    /// The grant (agent credential) it comes through.
    pub grant_id: &'a str,
    /// The tool's name, exactly as sent.
    pub tool: &'a str,
    /// The tool's classification from the catalogue, if known.
    pub classification: Option<Classification>,
    /// The call's `arguments` (`Value::Null` when the call has none).
    pub arguments: &'a Value,
}

/// Decides a call: hidden tools first, then the selected rule (exact name, glob,
/// classification, in that precedence) or the default.
pub fn evaluate(policy: &CompiledPolicy, call: &ToolCall<'_>) -> Decision {
    if let Some(entry) = policy.hidden(call.tool) {
        let reason = policy.hidden_reason.clone();
        return verdict(Outcome::Deny, policy.shadow, Some(reason), entry.clone());
    }
    let scopes = Scopes {
        tenant_id: call.tenant_id,
        server_id: call.server_id,
        grant_id: call.grant_id,
    };
    let Some(rule) = policy.select(call.tool, call.classification) else {
        return match policy.default {
            DefaultAction::Deny => {
                let reason = Some(policy.default_reason.clone());
                verdict(
                    Outcome::Deny,
                    policy.shadow,
                    reason,
                    policy.default_rule.clone(),
                )
            }
            DefaultAction::Allow => {
                let allowed = verdict(
                    Outcome::Allow,
                    policy.shadow,
                    None,
                    policy.default_rule.clone(),
                );
                with_charges(&policy.all_tools, scopes, call.arguments, allowed)
            }
        };
    };
    decide_rule(rule, &policy.all_tools, scopes, call.arguments)
}

/// Whose counters a call charges: the ids a limit's `scope` picks from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scopes<'a> {
    pub(crate) tenant_id: &'a str,
    pub(crate) server_id: &'a str,
    pub(crate) grant_id: &'a str,
}

/// Applies a selected rule to a call: `action: deny`, then its conditions on
/// `arguments`, then approval or allow, with the charges of the rule's limits and
/// of `also_charged` (the policy's `all_tools` limits, for tools).
pub(crate) fn decide_rule(
    rule: &CompiledRule,
    also_charged: &[CompiledLimit],
    scopes: Scopes<'_>,
    arguments: &Value,
) -> Decision {
    let deny = |reason: Arc<str>, pointer: &Arc<str>| {
        verdict(Outcome::Deny, rule.shadow, Some(reason), pointer.clone())
    };
    if rule.action == Action::Deny {
        return deny(rule.reason.clone(), &rule.pointer);
    }
    if let Some((reason, pointer)) = blocking_condition(rule, arguments) {
        return deny(reason, pointer);
    }
    let decided = if rule.action == Action::RequireApproval {
        verdict(
            Outcome::RequireApproval,
            rule.shadow,
            Some(rule.reason.clone()),
            rule.pointer.clone(),
        )
    } else {
        verdict(Outcome::Allow, rule.shadow, None, rule.pointer.clone())
    };
    let limits = [rule.limits.as_slice(), also_charged];
    with_charges(limits.into_iter().flatten(), scopes, arguments, decided)
}

/// Whether the tool appears in `tools/list`: not hidden and not denied outright (by
/// its rule's action or the default). Tools denied only by argument conditions or
/// limits stay visible. Shadowed denials do not hide.
pub fn visible(
    policy: &CompiledPolicy,
    tool: &str,
    classification: Option<Classification>,
) -> bool {
    if policy.hidden(tool).is_some() {
        return policy.shadow;
    }
    match policy.select(tool, classification) {
        Some(rule) => rule.action != Action::Deny || rule.shadow,
        None => policy.default == DefaultAction::Allow || policy.shadow,
    }
}

/// Keeps only the visible tools of a `tools/list` result; `describe` gives each
/// tool's name and classification.
pub fn filter_tools<T>(
    policy: &CompiledPolicy,
    tools: &mut Vec<T>,
    describe: impl Fn(&T) -> (&str, Option<Classification>),
) {
    tools.retain(|tool| {
        let (name, classification) = describe(tool);
        visible(policy, name, classification)
    });
}

/// The first condition of the rule that blocks the call, with its reason: a `require`
/// that fails, then a `deny_if` that holds; in either list, one whose argument is
/// missing or of a type it cannot compare (fail closed).
fn blocking_condition<'r>(
    rule: &'r CompiledRule,
    arguments: &Value,
) -> Option<(Arc<str>, &'r Arc<str>)> {
    let required = rule.require.iter().map(|c| (c, true));
    let denied = rule.deny_if.iter().map(|c| (c, false));
    required.chain(denied).find_map(|(condition, is_require)| {
        let reason = match (condition.check(arguments), is_require) {
            (Check::Unusable(unusable), _) => condition.unusable_reason(unusable),
            (Check::Fails, true) => condition.unmet_reason.clone(),
            (Check::Holds, false) => condition.met_reason.clone(),
            (Check::Holds, true) | (Check::Fails, false) | (Check::Skipped, _) => return None,
        };
        Some((reason, &condition.pointer))
    })
}

/// A decision from a would-be outcome, applying shadow mode.
pub(crate) fn verdict(
    decided: Outcome,
    shadow: bool,
    reason: Option<Arc<str>>,
    rule: Arc<str>,
) -> Decision {
    Decision {
        outcome: if shadow { Outcome::Allow } else { decided },
        decided,
        shadow,
        reason,
        rule,
        charges: Vec::new(),
    }
}

/// Adds the limits' charges, or denies when a spend amount is unusable.
fn with_charges<'l>(
    limits: impl IntoIterator<Item = &'l CompiledLimit>,
    scopes: Scopes<'_>,
    arguments: &Value,
    mut decision: Decision,
) -> Decision {
    for limit in limits {
        let Some(cost) = limit.cost(arguments) else {
            let reason = Some(limit.bad_amount_reason.clone());
            return verdict(Outcome::Deny, limit.shadow, reason, limit.pointer.clone());
        };
        merge_charge(&mut decision.charges, limit.charge(scopes, cost));
    }
    decision
}

impl CompiledPolicy {
    /// The pointer of the `hide` entry that hides this tool, if any.
    pub(crate) fn hidden(&self, tool: &str) -> Option<&Arc<str>> {
        let hide = &self.hide;
        hide.all
            .as_ref()
            .or_else(|| hide.exact.get(tool))
            .or_else(|| {
                hide.globs
                    .iter()
                    .find(|(g, _)| g.matches(tool))
                    .map(|(_, at)| at)
            })
    }

    /// The rule for this tool: exact name, else the most specific glob, else the
    /// first matching classification selector.
    pub(crate) fn select(
        &self,
        tool: &str,
        classification: Option<Classification>,
    ) -> Option<&CompiledRule> {
        let index = self.tools.find(tool).or_else(|| {
            let class = classification?;
            let chosen = self.classes.iter().find(|(m, _)| selects(m, class));
            chosen.map(|(_, i)| *i)
        })?;
        self.rules.get(index)
    }
}

fn selects(selector: &ClassMatch, class: Classification) -> bool {
    selector.category.is_none_or(|c| c == class.category)
        && selector.risk.is_none_or(|r| r == class.risk)
        && selector.risk_at_least.is_none_or(|r| class.risk >= r)
}
