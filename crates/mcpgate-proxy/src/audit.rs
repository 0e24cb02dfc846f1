//! The audit trail: every decision becomes an [`AuditEvent`] on a bounded queue, and one
//! background writer inserts them in batches, together with the grants' last-used times.
//! The request path never waits for Postgres; a full queue drops (and counts, and logs)
//! events rather than slowing calls down, and drops them fairly: the tenant holding the
//! most pending events loses its own ([`queue`]). A row Postgres refuses is set aside in
//! the dead-letter table and never stops the writer ([`writer`]). Policies that can
//! accept no loss set `settings.audit: strict`, and their calls' rows are written by
//! [`AuditQueue::write_now`] before the call is forwarded.

mod arguments;
mod queue;
#[cfg(test)]
mod scale;
mod secrets;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mcpgate_store::audit::{insert_audit_events, AuditEvent};
use mcpgate_store::{GrantId, PgPool, StoreError};
use tokio_util::sync::CancellationToken;

pub(crate) use arguments::redacted_arguments;
pub(crate) use arguments::{argument_keys, audited_arguments};

use crate::metrics::Metrics;
use queue::{Admission, FairQueue};

/// The request side of the queue.
#[derive(Debug, Clone)]
pub(crate) struct AuditQueue {
    queue: Arc<FairQueue>,
    metrics: Arc<Metrics>,
    db: PgPool,
}

/// How long a strict audit write may take before the call is refused.
const STRICT_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

impl AuditQueue {
    /// Writes `event` at once (strict audit). The caller refuses the call on an error.
    pub(crate) async fn write_now(&self, event: AuditEvent) -> Result<(), StoreError> {
        let events = [event];
        match tokio::time::timeout(STRICT_WRITE_TIMEOUT, insert_audit_events(&self.db, &events))
            .await
        {
            Ok(result) => result,
            Err(_) => Err(StoreError::Timeout {
                what: "strict audit write",
                after: STRICT_WRITE_TIMEOUT,
            }),
        }
    }

    pub(crate) fn record(&self, event: AuditEvent) {
        let tenant = event.tenant_id;
        let lost = match self.queue.push(event) {
            Admission::Queued => return,
            Admission::QueuedInPlaceOf(largest) => largest,
            Admission::Refused => tenant,
        };
        let total = self.metrics.audit_dropped(1);
        if total == 1 || total % 1000 == 0 {
            tracing::error!(
                dropped_total = total,
                tenant = %lost,
                "AUDIT EVENTS LOST: the audit queue is full (Postgres too slow or down); \
                 this tenant holds the most pending events, so its newest are dropped; \
                 see mcpgate_proxy_audit_dropped_total. Policies that can accept no loss \
                 should set settings.audit: strict"
            );
        }
    }

    pub(crate) fn grant_used(&self, grant: GrantId) {
        self.queue.grant_used(grant, Utc::now());
    }

    /// Events waiting to be written.
    pub(crate) fn depth(&self) -> usize {
        self.queue.len()
    }
}

/// Settings of the writer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriterSettings {
    pub(crate) capacity: usize,
    pub(crate) batch_size: usize,
    pub(crate) flush_interval: Duration,
}

/// Creates the queue and its writer task, which runs until `stop` and then drains
/// everything still queued before it returns.
pub(crate) fn start(
    db: PgPool,
    settings: WriterSettings,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) -> (AuditQueue, tokio::task::JoinHandle<()>) {
    let queue = Arc::new(FairQueue::new(settings.capacity, settings.batch_size));
    let writer = writer::Writer {
        db: db.clone(),
        queue: Arc::clone(&queue),
        flush_interval: settings.flush_interval,
        metrics: Arc::clone(&metrics),
    };
    let handle = tokio::spawn(writer.run(stop));
    (AuditQueue { queue, metrics, db }, handle)
}
