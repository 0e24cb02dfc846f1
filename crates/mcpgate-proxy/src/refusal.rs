//! How a refused `tools/call` is answered: HTTP 200 for the request's id, as a tool
//! result with `isError: true` (the default) or as a JSON-RPC error, as the policy's
//! `settings.deny_response` chooses. See MCP-NOTES "How clients take a refusal".

use std::sync::Arc;

use mcpgate_mcp::{error_response, tool_error_result, ToolErrorShape};
use mcpgate_policy::DenyResponse;
use serde_json::{json, value::RawValue, Map, Value};

/// JSON-RPC code: refused by policy (deny rule, hidden, unknown or changed tool, no policy).
pub const POLICY_DENIED: i64 = -32001;
/// JSON-RPC code: a rate limit or spend cap is exhausted.
pub const RATE_LIMITED: i64 = -32002;
/// JSON-RPC code: the rate limiter (Redis) is unreachable and the policy fails closed.
pub const LIMITER_UNAVAILABLE: i64 = -32004;
/// JSON-RPC code: a person denied the held call.
pub const APPROVAL_DENIED: i64 = -32005;
/// JSON-RPC code: nobody decided the held call in time.
pub const APPROVAL_EXPIRED: i64 = -32006;
/// JSON-RPC code: the policy's strict audit could not write the call's record.
pub const AUDIT_UNAVAILABLE: i64 = -32007;
/// JSON-RPC code: the upstream did not answer (connect error, timeout, broken stream).
pub const UPSTREAM_UNAVAILABLE: i64 = -32010;

/// Text every refusal's tool result begins with.
pub const DENIED_PREFIX: &str = "[POLICY DENIED] ";

/// The `_meta` key of a refused tool call's decision.
pub const REFUSAL_META_KEY: &str = "io.mcpgate/refusal";

/// What shapes a refusal's tool result besides the policy's style.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Answering {
    /// The request is of the 2026-07-28 era: results carry `resultType`.
    pub(crate) modern: bool,
    /// The tool declares an `outputSchema`.
    pub(crate) output_schema: bool,
}

/// Why a call was refused; each kind has its own JSON-RPC code and audit word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefusalKind {
    Policy,
    RateLimited,
    ApprovalDenied,
    ApprovalExpired,
    LimiterUnavailable,
    AuditUnavailable,
}

impl RefusalKind {
    pub(crate) fn code(self) -> i64 {
        match self {
            RefusalKind::Policy => POLICY_DENIED,
            RefusalKind::RateLimited => RATE_LIMITED,
            RefusalKind::ApprovalDenied => APPROVAL_DENIED,
            RefusalKind::ApprovalExpired => APPROVAL_EXPIRED,
            RefusalKind::LimiterUnavailable => LIMITER_UNAVAILABLE,
            RefusalKind::AuditUnavailable => AUDIT_UNAVAILABLE,
        }
    }

    /// `kind` in the structured content.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RefusalKind::Policy => "policy",
            RefusalKind::RateLimited => "rate_limit",
            RefusalKind::ApprovalDenied => "approval_denied",
            RefusalKind::ApprovalExpired => "approval_expired",
            RefusalKind::LimiterUnavailable => "limiter_unavailable",
            RefusalKind::AuditUnavailable => "audit_unavailable",
        }
    }

    /// The audit row's `decision`.
    pub(crate) fn audit_decision(self) -> &'static str {
        match self {
            RefusalKind::Policy | RefusalKind::LimiterUnavailable => "deny",
            RefusalKind::RateLimited => "limited",
            RefusalKind::ApprovalDenied => "approval_denied",
            RefusalKind::ApprovalExpired => "approval_expired",
            RefusalKind::AuditUnavailable => "error",
        }
    }
}

/// A refused call, ready to answer.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) kind: RefusalKind,
    pub(crate) reason: Arc<str>,
    pub(crate) rule: Option<Arc<str>>,
    pub(crate) counter: Option<Arc<str>>,
    pub(crate) retry_after: Option<u64>,
}

impl Refusal {
    /// A refusal of `kind` with only a reason and the deciding rule.
    pub(crate) fn new(
        kind: RefusalKind,
        reason: impl Into<Arc<str>>,
        rule: Option<Arc<str>>,
    ) -> Self {
        Self {
            kind,
            reason: reason.into(),
            rule,
            counter: None,
            retry_after: None,
        }
    }

    pub(crate) fn policy(reason: impl Into<Arc<str>>, rule: Option<Arc<str>>) -> Self {
        Self {
            kind: RefusalKind::Policy,
            reason: reason.into(),
            rule,
            counter: None,
            retry_after: None,
        }
    }

    /// `{"decision":"deny","kind":..,"rule":..,"reason":..,"counter"?:..,"retry_after"?:..}`.
    pub(crate) fn structured(&self) -> Value {
        let mut object = Map::new();
        object.insert("decision".into(), json!("deny"));
        object.insert("kind".into(), json!(self.kind.as_str()));
        object.insert("rule".into(), json!(self.rule.as_deref()));
        object.insert("reason".into(), json!(&*self.reason));
        if let Some(counter) = &self.counter {
            object.insert("counter".into(), json!(&**counter));
        }
        if let Some(retry_after) = self.retry_after {
            object.insert("retry_after".into(), json!(retry_after));
        }
        Value::Object(object)
    }

    /// The response body for the request `id`, a tool result shaped for `answer`.
    pub(crate) fn render(&self, id: &RawValue, style: DenyResponse, answer: Answering) -> Vec<u8> {
        let structured = self.structured();
        match style {
            DenyResponse::ToolError => {
                let text = format!("{DENIED_PREFIX}{}", self.reason);
                // The decision goes in `structuredContent` unless the tool declares an
                // `outputSchema` (clients check structured content against it even on
                // errors); `_meta` carries it either way.
                let meta = json!({ REFUSAL_META_KEY: &structured });
                let shape = ToolErrorShape {
                    structured_content: (!answer.output_schema).then_some(&structured),
                    meta: Some(&meta),
                    result_type: answer.modern,
                };
                tool_error_result(id, &text, &shape)
            }
            DenyResponse::JsonrpcError => {
                let message = format!("{DENIED_PREFIX}{}", self.reason);
                error_response(Some(id), self.kind.code(), &message, Some(&structured))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_error_refusal_begins_with_the_marker_and_carries_the_decision() {
        let id = RawValue::from_string("7".into()).unwrap();
        let refusal = Refusal {
            kind: RefusalKind::RateLimited,
            reason: "too many".into(),
            rule: Some("/tools/x/limits/0".into()),
            counter: Some("x_rate".into()),
            retry_after: Some(12),
        };
        let body: Value = serde_json::from_slice(&refusal.render(
            &id,
            DenyResponse::ToolError,
            Answering::default(),
        ))
        .unwrap();
        assert_eq!(body["id"], 7);
        assert_eq!(body["result"]["isError"], true);
        assert_eq!(
            body["result"]["content"][0]["text"],
            "[POLICY DENIED] too many"
        );
        assert_eq!(body["result"]["structuredContent"]["retry_after"], 12);
        assert_eq!(body["result"]["structuredContent"]["counter"], "x_rate");

        let body: Value = serde_json::from_slice(&refusal.render(
            &id,
            DenyResponse::JsonrpcError,
            Answering::default(),
        ))
        .unwrap();
        assert_eq!(body["error"]["code"], RATE_LIMITED);
        assert_eq!(body["error"]["data"]["rule"], "/tools/x/limits/0");
    }
}
