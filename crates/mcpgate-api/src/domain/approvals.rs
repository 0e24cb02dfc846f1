//! Deciding held calls: the store write, then the message that wakes the proxy
//! holding the call (on whichever replica it is).

use mcpgate_store::approvals::{self, Approval};
use mcpgate_store::changes::Change;
use mcpgate_store::{ApprovalId, TenantId};

use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::state::AppState;

/// A person's decision on a held call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Deny,
}

impl Verdict {
    fn status(self) -> &'static str {
        match self {
            Verdict::Approve => "approved",
            Verdict::Deny => "denied",
        }
    }
}

/// Records `verdict` by `actor` on a pending call, and tells the proxies.
pub async fn decide(
    state: &AppState,
    tenant: TenantId,
    id: ApprovalId,
    verdict: Verdict,
    actor: &str,
    reason: Option<&str>,
) -> Result<Approval, ApiError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::invalid(
            "/reason",
            "must be at most 500 characters",
        ));
    }
    let row = approvals::decide_approval(&state.db, tenant, id, verdict.status(), actor, reason)
        .await
        .map_err(|e| not_found_as(e, "approval"))?;
    publish(
        state,
        Change::Approval {
            tenant,
            approval: id,
            status: verdict.status().to_owned(),
        },
    )
    .await;
    Ok(row)
}
