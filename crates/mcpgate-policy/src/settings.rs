//! The `settings` block: what the proxy does around decisions.

use schemars::JsonSchema;
use serde::Serialize;

use crate::span::Span;

/// Proxy behaviour chosen by the policy. Every field has a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// How a denied call is answered (`tool_error` when omitted).
    #[serde(default)]
    pub deny_response: DenyResponse,
    /// What to do when the limiter (Redis) cannot be reached (`fail_closed` when omitted).
    #[serde(default)]
    pub on_limiter_error: LimiterErrorPolicy,
    /// How long a call waits for approval before it is denied (`"5m"` when omitted).
    #[serde(default = "default_approval_timeout")]
    pub approval_timeout: Span,
    /// Whether audit records keep argument values, redacted and size-capped (`false` when omitted).
    #[serde(default)]
    pub audit_arguments: bool,
    /// How the proxy writes audit records (`queued` when omitted).
    #[serde(default)]
    pub audit: AuditMode,
}

/// How the proxy writes a call's audit record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditMode {
    /// On a bounded queue, written in batches: the call never waits for the database,
    /// and records can be lost if the queue overflows during a long database outage.
    #[default]
    Queued,
    /// Written before the call is forwarded; if it cannot be written, the call is
    /// refused. Slower (one database write per call), but no call runs unrecorded.
    Strict,
}

/// How the proxy answers a denied `tools/call`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DenyResponse {
    /// An HTTP-200 tool result with `isError: true` and text starting `[POLICY DENIED]`,
    /// so the agent reads the reason and can adapt.
    #[default]
    ToolError,
    /// A JSON-RPC error response.
    JsonrpcError,
}

/// What the proxy does with a limited call when the limiter cannot be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimiterErrorPolicy {
    /// Deny the call: a budget is never exceeded.
    #[default]
    FailClosed,
    /// Let the call through uncounted: availability over the budget.
    FailOpen,
}

fn default_approval_timeout() -> Span {
    Span::from_seconds(300).unwrap_or(Span::MINUTE)
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deny_response: DenyResponse::default(),
            on_limiter_error: LimiterErrorPolicy::default(),
            approval_timeout: default_approval_timeout(),
            audit_arguments: false,
            audit: AuditMode::default(),
        }
    }
}

impl Settings {
    pub(crate) fn is_default(&self) -> bool {
        *self == Settings::default()
    }

    /// The approval timeout as a standard duration.
    pub fn approval_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.approval_timeout.seconds())
    }
}
