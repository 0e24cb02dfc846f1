//! SIEM export: each tenant's audit events, POSTed in position order to the tenant's
//! webhook in signed batches ([`signature`]), at least once.
//!
//! Every API replica runs a few delivery workers. A worker claims the export that has
//! been due longest (a lease in Postgres, so one tenant's batches never go out twice
//! at once and replicas share the tenants), reads the events after the stored
//! position, and POSTs them. A 2xx moves the position past the batch; anything else
//! is retried with exponential backoff ([`retry_delay`]), the same batch again, until
//! `max_attempts`, after which the batch is given up on (recorded in
//! `audit_export_dead_letter`, counted) and the export moves on. The position is only
//! stored after the receiver answered, so a crash or restart resends the last batch:
//! receivers de-duplicate on each event's `id`.

pub mod signature;

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use mcpgate_store::audit::{
    audit_events_after, claim_due_export, export_delivered, export_failed, export_idle,
    ClaimedExport, ExportFailure, StoredAuditEvent,
};
use mcpgate_store::TenantId;
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::state::AppState;

/// How exports are delivered.
#[derive(Debug, Clone, Copy)]
pub struct ExportSettings {
    /// Events per POST at most.
    pub batch_size: usize,
    /// How often an export with nothing new is looked at again.
    pub poll_interval: Duration,
    /// The wait after the first failed attempt; doubled after each further one.
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_max: Duration,
    /// Attempts of one batch before it is given up on.
    pub max_attempts: u32,
    /// How long one POST may take.
    pub request_timeout: Duration,
    /// Exports this replica delivers at once.
    pub workers: usize,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll_interval: Duration::from_secs(1),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            max_attempts: 10,
            request_timeout: Duration::from_secs(10),
            workers: 2,
        }
    }
}

/// How long a claim holds: longer than a POST may take, so it never runs out while the
/// worker still delivers, short enough that a crashed replica's tenants move on soon.
fn lease(settings: &ExportSettings) -> Duration {
    settings.request_timeout * 3
}

/// The wait before attempt `failed + 1` after `failed` failed attempts (at least 1):
/// `base × 2^(failed−1)`, at most `max`.
pub fn retry_delay(failed: u32, base: Duration, max: Duration) -> Duration {
    let doublings = failed.saturating_sub(1).min(30);
    base.saturating_mul(1 << doublings).min(max)
}

/// What a POST carries.
#[derive(Debug, Serialize)]
struct Batch<'a> {
    tenant_id: TenantId,
    events: &'a [StoredAuditEvent],
}

/// Starts the delivery workers; they stop with `stop`.
pub(crate) fn spawn(
    state: AppState,
    settings: ExportSettings,
    stop: CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let client = mcpgate_upstream::upstream_client(state.upstreams.clone(), "mcpgate-audit-export")
        .timeout(settings.request_timeout)
        .build()
        .context("building the audit export's HTTP client")?;
    let owner = Uuid::new_v4();
    Ok((0..settings.workers)
        .map(|_| {
            let worker = Worker {
                state: state.clone(),
                client: client.clone(),
                settings,
                owner,
            };
            tokio::spawn(worker.run(stop.clone()))
        })
        .collect())
}

struct Worker {
    state: AppState,
    client: reqwest::Client,
    settings: ExportSettings,
    /// This replica, as the lease names it.
    owner: Uuid,
}

impl Worker {
    /// Delivers until `stop`; a delivery under way is finished first (a POST is bounded
    /// by the request timeout), so a stopping replica leaves no claim behind.
    async fn run(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            match self.deliver_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(error = format!("{error:#}"), "audit export failed"),
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }

    /// Delivers one batch of the export due longest ago; false when none was due.
    async fn deliver_one(&self) -> anyhow::Result<bool> {
        let db = &self.state.db;
        let Some(export) = claim_due_export(db, self.owner, lease(&self.settings)).await? else {
            return Ok(false);
        };
        let limit = i64::try_from(self.settings.batch_size).unwrap_or(i64::MAX);
        let events =
            audit_events_after(db, export.tenant_id, export.delivered_position, limit).await?;
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            let next = Utc::now() + self.settings.poll_interval;
            export_idle(db, export.tenant_id, self.owner, next).await?;
            return Ok(true);
        };
        let (first, last) = (first.position, last.position);
        match self.post(&export, &events, first, last).await {
            Ok(()) => {
                let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
                export_delivered(db, export.tenant_id, self.owner, last, count).await?;
            }
            Err(error) => {
                let error = format!("{error:#}");
                let attempts = u32::try_from(export.failed_attempts).unwrap_or(0) + 1;
                let retry_at = (attempts < self.settings.max_attempts).then(|| {
                    Utc::now()
                        + retry_delay(attempts, self.settings.retry_base, self.settings.retry_max)
                });
                if retry_at.is_none() {
                    tracing::error!(
                        tenant = %export.tenant_id, first, last, attempts, %error,
                        "AUDIT EXPORT BATCH GIVEN UP: every attempt failed; recorded in \
                         audit_export_dead_letter and counted in the export's dead_letter_events"
                    );
                } else {
                    tracing::warn!(tenant = %export.tenant_id, first, last, attempts, %error, "audit export attempt failed; retrying");
                }
                let failure = ExportFailure {
                    error: &error,
                    retry_at,
                    first_position: first,
                    last_position: last,
                    events: i32::try_from(events.len()).unwrap_or(i32::MAX),
                    attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
                };
                export_failed(db, export.tenant_id, self.owner, &failure).await?;
            }
        }
        Ok(true)
    }

    async fn post(
        &self,
        export: &ClaimedExport,
        events: &[StoredAuditEvent],
        first: i64,
        last: i64,
    ) -> anyhow::Result<()> {
        let secret = self
            .state
            .keys
            .credentials
            .open_export_secret(export.tenant_id.as_uuid(), &export.secret_sealed)
            .context("opening the export's secret")?;
        let body = serde_json::to_vec(&Batch {
            tenant_id: export.tenant_id,
            events,
        })
        .context("encoding the batch")?;
        let timestamp = Utc::now().timestamp();
        let answer = self
            .client
            .post(&export.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(signature::TIMESTAMP_HEADER, timestamp)
            .header(
                signature::SIGNATURE_HEADER,
                signature::signature(&secret, timestamp, &body),
            )
            .header(signature::DELIVERY_HEADER, format!("{first}-{last}"))
            .body(body)
            .send()
            .await
            .context("sending the batch")?;
        let status = answer.status();
        anyhow::ensure!(status.is_success(), "the receiver answered {status}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_the_maximum() {
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(1));
        let waits: Vec<Duration> = (1..=6).map(|n| retry_delay(n, base, max)).collect();
        assert_eq!(
            waits,
            [100, 200, 400, 800, 1000, 1000].map(Duration::from_millis)
        );
        assert_eq!(retry_delay(u32::MAX, base, max), max);
    }
}
