//! The audit log's upkeep, run by every API replica and done by one at a time: the
//! daily partitions made ahead and those past the retention dropped
//! ([`mcpgate_store::audit::maintain_audit_partitions`], under an advisory lock).

use std::time::Duration;

use chrono::Utc;
use mcpgate_store::audit::{maintain_audit_partitions, AuditRetention};
use mcpgate_store::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the upkeep runs: partitions are made days ahead, so an hour is plenty,
/// and a replica that starts runs it at once.
const INTERVAL: Duration = Duration::from_secs(3600);

/// Runs the upkeep now and then every [`INTERVAL`] until `stop`.
pub(crate) fn spawn(
    db: PgPool,
    retention: AuditRetention,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(INTERVAL);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            match maintain_audit_partitions(&db, retention, Utc::now()).await {
                Ok(Some(done)) => tracing::info!(
                    created = done.created,
                    dropped = ?done.dropped,
                    deleted_rows = done.deleted_rows,
                    "audit partitions maintained"
                ),
                Ok(None) => tracing::debug!("another replica is maintaining the audit partitions"),
                Err(error) => tracing::error!(
                    %error,
                    "maintaining the audit partitions failed; retrying in an hour (partitions \
                     are made days ahead)"
                ),
            }
        }
    })
}
