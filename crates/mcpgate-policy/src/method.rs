//! Deciding a request for an MCP method other than `tools/call`: `resources/read`,
//! `prompts/get`, `completion/complete`, ... by the policy's `methods` rules.
//!
//! A rule there is a tool [`crate::Rule`] and decides the same way (action,
//! conditions on the request's `params` read as `args`, limits, shadow mode), so the
//! proxy combines, reserves and audits the [`Decision`] as it does a tool call's.
//! The `all_tools` limits do not apply: they count tool calls.

use serde_json::Value;

use crate::compile::CompiledPolicy;
use crate::decision::{Decision, Outcome};
use crate::document::DefaultAction;
use crate::evaluate::{decide_rule, verdict, Scopes};

/// One request for a method other than `tools/call`, as the engine sees it.
/// Borrowed: building it costs nothing.
#[derive(Debug, Clone, Copy)]
pub struct MethodCall<'a> {
    /// The tenant the request belongs to.
    pub tenant_id: &'a str,
    /// The upstream MCP server it goes to.
    pub server_id: &'a str,
    /// The grant (agent credential) it comes through.
    pub grant_id: &'a str,
    /// The JSON-RPC method, exactly as sent (`resources/read`).
    pub method: &'a str,
    /// What the request names, when it names one: the resource URI, the prompt's
    /// name, the completion reference, the task id. For the caller's audit and logs;
    /// the engine decides on `method` and `params` (conditions read the target from
    /// `params`, e.g. `args.uri`).
    pub target: Option<&'a str>,
    /// The request's `params` (`Value::Null` when it has none, read as `{}`).
    pub params: &'a Value,
    /// Whether the caller knows `method` as an MCP method the gateway governs. A
    /// known method that no `methods` key selects follows the policy's `default`;
    /// an unknown one is denied.
    pub known: bool,
}

/// The [`Decision::rule`] of an unknown method that no `methods` key selects.
pub const UNKNOWN_METHOD_RULE: &str = "(unknown method)";

/// Decides a request for a method other than `tools/call`.
///
/// - A method selected by a `methods` key (its exact name, else the most specific
///   glob, as for tools) follows that rule: `action`, `require`/`deny_if` on
///   `params`, `limits` (charged like a tool rule's, in the same counter namespace),
///   `mode`. Rule pointers are `/methods/<key>` (`/methods/resources~1read`).
/// - A known method that no key selects follows `default`: allowed with no charges
///   (`all_tools` limits are for tool calls), or denied with the reason
///   `method <m> is not allowed by this policy (default: deny)`; the rule is
///   `(default allow)` or `(default deny)`.
/// - An unknown method (`known: false`) that no key selects is denied whatever
///   `default` says, with the reason
///   `unknown method <m>: not allowed unless the policy's methods section names it`
///   and the rule [`UNKNOWN_METHOD_RULE`].
///
/// The policy's `mode: shadow` applies throughout, as for tools: the decision is
/// reported (`decided`) and the request let through (`outcome: allow`).
pub fn evaluate_method(policy: &CompiledPolicy, call: &MethodCall<'_>) -> Decision {
    let method = call.method;
    if let Some(rule) = policy
        .methods
        .find(method)
        .and_then(|i| policy.rules.get(i))
    {
        let scopes = Scopes {
            tenant_id: call.tenant_id,
            server_id: call.server_id,
            grant_id: call.grant_id,
        };
        return decide_rule(rule, &[], scopes, call.params);
    }
    if !call.known {
        let reason = format!(
            "unknown method {method}: not allowed unless the policy's methods section names it"
        );
        let rule = UNKNOWN_METHOD_RULE.into();
        return verdict(Outcome::Deny, policy.shadow, Some(reason.into()), rule);
    }
    let rule = policy.default_rule.clone();
    match policy.default {
        DefaultAction::Allow => verdict(Outcome::Allow, policy.shadow, None, rule),
        DefaultAction::Deny => {
            let reason = format!("method {method} is not allowed by this policy (default: deny)");
            verdict(Outcome::Deny, policy.shadow, Some(reason.into()), rule)
        }
    }
}
