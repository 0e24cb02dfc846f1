//! Deciding a request ([`Target`]: a `tools/call` or another governed method): the
//! tool's state, the server's policy and the grant's own, then the rate limits. Pure
//! lookups in memory plus at most one Redis round trip.

use std::sync::Arc;
use std::time::Duration;

use mcpgate_mcp::ListKind;
use mcpgate_policy::{
    combine, evaluate, evaluate_method, AuditMode, CompiledPolicy, Decision, DenyResponse,
    LimiterErrorPolicy, MethodCall, Outcome, Settings, ToolCall,
};
use serde_json::value::RawValue;

use crate::auth::Caller;
use crate::cache::ToolEntry;
use crate::drift::Drift;
use crate::limiter::{Limiter, Reservation, Taken};
use crate::metrics::Metrics;
use crate::refusal::{Refusal, RefusalKind};
use crate::target::Target;

pub(crate) const NO_POLICY: &str = "no policy is active for this server yet";

/// What the audit row says about the decision.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditNote {
    /// `allow`, `deny`, `limited`, `shadow`, `approval_required` or `error`.
    pub(crate) decision: &'static str,
    pub(crate) rule: Option<Arc<str>>,
    pub(crate) reason: Option<Arc<str>>,
    pub(crate) policy_version: Option<i32>,
}

/// The outcome of enforcement for one call.
#[derive(Debug)]
pub(crate) enum Enforcement {
    /// Forward it; release `taken` if the upstream call fails.
    Forward { taken: Taken, note: AuditNote },
    /// Hold it for a person's decision (the counters are already reserved: release
    /// `taken` on denial, expiry or upstream failure).
    Hold { taken: Taken, note: AuditNote },
    /// Answer with the refusal, HTTP 200.
    Refuse { refusal: Refusal, note: AuditNote },
}

/// The settings that shape the answer and the audit row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSettings {
    pub(crate) deny_response: DenyResponse,
    pub(crate) audit_arguments: bool,
    /// Write the audit row before forwarding, and refuse the call if that fails.
    pub(crate) strict_audit: bool,
    /// How long a held call waits for a decision.
    pub(crate) approval_timeout: Duration,
    fail_open: bool,
}

impl CallSettings {
    /// The server policy's deny style; fail-open only if every policy involved says so;
    /// argument values audited, and audit strict, if any asks; the shorter approval timeout.
    pub(crate) fn of(caller: &Caller) -> Self {
        let server = caller
            .server
            .policy
            .as_ref()
            .and_then(|p| p.compiled.as_ref().ok())
            .map(|p| *p.settings());
        let grant = caller
            .grant
            .policy
            .as_ref()
            .and_then(|p| p.compiled.as_ref().ok())
            .map(|p| *p.settings());
        let base = server.unwrap_or_default();
        let open = |s: &Settings| s.on_limiter_error == LimiterErrorPolicy::FailOpen;
        let strict = |s: &Settings| s.audit == AuditMode::Strict;
        let approval_timeout = match grant {
            Some(grant) => base.approval_timeout().min(grant.approval_timeout()),
            None => base.approval_timeout(),
        };
        Self {
            deny_response: base.deny_response,
            audit_arguments: base.audit_arguments || grant.is_some_and(|g| g.audit_arguments),
            strict_audit: strict(&base) || grant.is_some_and(|g| strict(&g)),
            approval_timeout,
            fail_open: server.is_some_and(|s| open(&s)) && grant.is_none_or(|g| open(&g)),
        }
    }
}

/// Decides `target` for `caller`, reserving its counters if allowed.
pub(crate) async fn enforce(
    caller: &Caller,
    settings: CallSettings,
    limiter: &Limiter,
    metrics: &Metrics,
    target: &Target,
) -> Enforcement {
    let policy_version = caller.server.policy.as_ref().and_then(|p| p.version);
    let refuse = |refusal: Refusal| {
        let note = AuditNote {
            decision: refusal.kind.audit_decision(),
            rule: refusal.rule.clone(),
            reason: Some(refusal.reason.clone()),
            policy_version,
        };
        Enforcement::Refuse { refusal, note }
    };
    let decision = match decide(caller, target) {
        Ok(decision) => decision,
        Err(refusal) => return refuse(refusal),
    };
    let hold = match decision.outcome {
        Outcome::Deny => {
            let reason = decision.reason.unwrap_or_else(|| "denied by policy".into());
            return refuse(Refusal::policy(reason, Some(decision.rule)));
        }
        Outcome::RequireApproval => true,
        Outcome::Allow => false,
    };
    let mut note = if hold {
        AuditNote {
            decision: "approval_required",
            rule: Some(decision.rule.clone()),
            reason: decision.reason.clone(),
            policy_version,
        }
    } else if decision.shadow && decision.decided != Outcome::Allow {
        AuditNote {
            decision: "shadow",
            rule: Some(decision.rule.clone()),
            reason: decision.reason.clone(),
            policy_version,
        }
    } else {
        AuditNote {
            decision: "allow",
            rule: Some(decision.rule.clone()),
            reason: None,
            policy_version,
        }
    };
    let pass = |taken: Taken, note: AuditNote| {
        if hold {
            Enforcement::Hold { taken, note }
        } else {
            Enforcement::Forward { taken, note }
        }
    };
    match limiter.reserve(&decision.charges).await {
        Ok(Reservation::Taken(taken)) => {
            if let Some((index, retry_after)) = taken.shadow_over.filter(|_| !hold) {
                let would_be = Decision::limit_exceeded(&decision.charges[index], retry_after);
                note.decision = "shadow";
                note.rule = Some(would_be.rule);
                note.reason = would_be.reason;
            }
            pass(taken, note)
        }
        Ok(Reservation::Refused { index, retry_after }) => {
            let charge = &decision.charges[index];
            let limited = Decision::limit_exceeded(charge, retry_after);
            refuse(Refusal {
                kind: RefusalKind::RateLimited,
                reason: limited
                    .reason
                    .unwrap_or_else(|| "rate limit exceeded".into()),
                rule: Some(limited.rule),
                counter: Some(charge.counter.clone()),
                retry_after: Some(retry_after),
            })
        }
        Err(error) => {
            metrics.redis_error();
            tracing::warn!(%error, "rate limiter unavailable");
            if settings.fail_open {
                if !hold {
                    note.reason =
                        Some("rate limiter unavailable; allowed uncounted (fail open)".into());
                }
                pass(Taken::default(), note)
            } else {
                refuse(Refusal {
                    kind: RefusalKind::LimiterUnavailable,
                    reason: "rate limiter unavailable; the call was not made (the policy fails closed). Try again shortly.".into(),
                    rule: None,
                    counter: None,
                    retry_after: Some(1),
                })
            }
        }
    }
}

/// For a held call about to resume: whether the policies as they are now still let
/// `target` through (limits aside: its counters were reserved when it was held).
pub(crate) fn still_allowed(caller: &Caller, target: &Target) -> Result<(), Refusal> {
    let decision = decide(caller, target)?;
    if decision.outcome == Outcome::Deny {
        let reason = decision
            .reason
            .unwrap_or_else(|| "the policy now denies it".into());
        return Err(Refusal::policy(reason, Some(decision.rule)));
    }
    Ok(())
}

/// The combined decision of the server's and the grant's policies, or a refusal that
/// comes before any rule: no policy, an unknown tool, a changed and unapproved tool.
fn decide(caller: &Caller, target: &Target) -> Result<Decision, Refusal> {
    let server = &caller.server;
    let policy = server
        .policy
        .as_ref()
        .ok_or_else(|| Refusal::policy(NO_POLICY, None))?;
    let compiled = policy
        .compiled
        .as_ref()
        .map_err(|reason| Refusal::policy(reason.clone(), None))?;
    let grant = match &caller.grant.policy {
        None => None,
        Some(grant_policy) => Some(
            grant_policy
                .compiled
                .as_ref()
                .map_err(|reason| Refusal::policy(reason.clone(), None))?,
        ),
    };
    // The counters' scopes, spelled on the stack (no allocation, no formatter).
    let mut spelled = [[0u8; mcpgate_store::SPELLED_ID_LENGTH]; 3];
    let [tenant, server_id, grant_id] = &mut spelled;
    let tenant = caller.tenant.spell(tenant);
    let server_id = server.id.spell(server_id);
    let grant_id = caller.grant_id.spell(grant_id);
    let evaluate_with = |policy: &CompiledPolicy| match target {
        Target::Tool {
            name, arguments, ..
        } => Ok(evaluate(
            policy,
            &ToolCall {
                tenant_id: tenant,
                server_id,
                grant_id,
                tool: name,
                classification: tool_entry(caller, name)?.classification,
                arguments,
            },
        )),
        Target::Method {
            method,
            name,
            params,
            known,
        } => Ok(evaluate_method(
            policy,
            &MethodCall {
                tenant_id: tenant,
                server_id,
                grant_id,
                method,
                target: name.as_deref(),
                params,
                known: *known,
            },
        )),
    };
    let decision = evaluate_with(compiled)?;
    match grant {
        None => Ok(decision),
        Some(grant) => Ok(combine(decision, evaluate_with(grant)?)),
    }
}

/// The catalogue's entry for `tool`, or the refusal for a tool the catalogue does not
/// list or that changed without approval.
fn tool_entry<'c>(caller: &'c Caller, tool: &str) -> Result<&'c ToolEntry, Refusal> {
    let server = &caller.server;
    let entry = server.tools.get(tool).ok_or_else(|| {
        Refusal::policy(
            format!("unknown tool '{tool}': this server's tool list (as last synced) does not include it"),
            None,
        )
    })?;
    if server.block_changed_tools && server.tool_changed(tool) {
        return Err(Refusal::policy(
            format!("tool '{tool}' changed since it was approved; an administrator must review and approve the new definition"),
            None,
        ));
    }
    Ok(entry)
}

/// Whether a tool the upstream listed with `definition` may appear for this caller: as
/// [`tool_visible`], once the definition was checked against the catalogue
/// ([`crate::drift`]): one other than approved counts as changed from now on, and one the
/// catalogue does not hold asks for a re-sync.
pub(crate) fn listed_tool_visible(
    drift: &Drift,
    caller: &Caller,
    tool: &str,
    definition: &RawValue,
) -> bool {
    let server = &caller.server;
    let listed = crate::drift::check(server, tool, definition);
    if !listed.approved && server.tools.contains_key(tool) && !server.tool_changed(tool) {
        tracing::warn!(server = %server.id, tool, "a listed tool's definition differs from the approved one; it counts as changed");
        server.mark_changed(tool);
    }
    if !listed.as_synced {
        let reason =
            format!("tool '{tool}' was listed with a definition the catalogue does not hold");
        drift.request_sync(caller.tenant, server.id, &reason);
    }
    tool_visible(caller, tool)
}

/// Whether an item the upstream listed may appear for this caller: a tool as
/// [`listed_tool_visible`]; a prompt or resource when the policies would not deny reading
/// it (`prompts/get` with its name, `resources/read` with its URI; a rule whose
/// conditions need more than that hides it, the safe side of not knowing).
pub(crate) fn listed_visible(
    drift: &Drift,
    caller: &Caller,
    kind: ListKind,
    key: &str,
    definition: &RawValue,
) -> bool {
    let (method, params) = match kind {
        ListKind::Tools => return listed_tool_visible(drift, caller, key, definition),
        ListKind::Prompts => ("prompts/get", serde_json::json!({ "name": key })),
        ListKind::Resources => ("resources/read", serde_json::json!({ "uri": key })),
    };
    let target = Target::Method {
        method: method.to_owned(),
        name: Some(key.to_owned()),
        params,
        known: true,
    };
    decide(caller, &target).is_ok_and(|decision| decision.outcome != Outcome::Deny)
}

/// Whether `tool` may appear in `tools/list` for this caller.
pub(crate) fn tool_visible(caller: &Caller, tool: &str) -> bool {
    let server = &caller.server;
    let Some(Ok(compiled)) = server.policy.as_ref().map(|p| &p.compiled) else {
        return false;
    };
    // Unknown tools are refused when called, so they are not shown either.
    let Some(entry) = server.tools.get(tool) else {
        return false;
    };
    if server.block_changed_tools && server.tool_changed(tool) {
        return false;
    }
    let classification = entry.classification;
    if !mcpgate_policy::visible(compiled, tool, classification) {
        return false;
    }
    match caller.grant.policy.as_ref().map(|p| &p.compiled) {
        None => true,
        Some(Ok(grant)) => mcpgate_policy::visible(grant, tool, classification),
        Some(Err(_)) => false,
    }
}
