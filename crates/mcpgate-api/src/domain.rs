//! The control plane's domain functions: what a request means, apart from how it
//! arrived. Handlers (REST now, dashboard later) call these.

pub mod accounts;
pub mod admin_audit;
pub mod approvals;
pub mod audit;
pub mod audit_export;
pub mod classification;
pub mod grants;
pub mod members;
pub mod password_reset;
pub mod policies;
pub mod servers;
pub mod upstream_oauth;

use mcpgate_store::changes::{self, Change};
use mcpgate_store::StoreError;

use crate::error::ApiError;
use crate::state::AppState;

/// A store `NotFound` named for the resource the caller asked for.
pub fn not_found_as(error: StoreError, what: &'static str) -> ApiError {
    match error {
        StoreError::NotFound => ApiError::NotFound(what),
        other => other.into(),
    }
}

/// Tells the proxies that something changed. The write is already committed: a
/// failed publish is logged, not returned, since proxies resync periodically.
pub async fn publish(state: &AppState, change: Change) {
    if let Err(error) = changes::publish(&state.redis, &change).await {
        tracing::warn!(%error, ?change, "could not publish a change; proxies will catch up at their next resync");
    }
}
