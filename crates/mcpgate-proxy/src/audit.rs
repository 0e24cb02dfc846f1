//! The audit trail: every decision becomes an [`AuditEvent`] on a bounded queue, and one
//! background writer inserts them in batches, together with the grants' last-used times.
//! The request path never waits for Postgres; a full queue drops (and counts, and logs)
//! events rather than slowing calls down, and drops them fairly: the tenant holding the
//! most pending events loses its own ([`queue`]). A row Postgres refuses is set aside in
//! the dead-letter table and never stops the writer ([`writer`]). Policies that can
//! accept no loss set `settings.audit: strict`, and their calls' rows are written by
//! [`AuditQueue::write_now`] before the call is forwarded. With a spool directory set,
//! every queued event is journaled on local disk before the call is answered, so a
//! process that dies without draining loses none of them either ([`spool`]).

mod arguments;
mod queue;
#[cfg(test)]
mod scale;
mod secrets;
mod spool;
mod writer;

use std::path::Path;
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
use spool::{Appended, Orphan, Spool};

/// The request side of the queue.
#[derive(Debug, Clone)]
pub(crate) struct AuditQueue {
    queue: Arc<FairQueue>,
    metrics: Arc<Metrics>,
    db: PgPool,
    spool: Option<Arc<Spool>>,
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

    /// Queues `event`, journaled first when there is a spool.
    pub(crate) fn record(&self, event: AuditEvent) {
        self.enqueue(event);
    }

    /// [`AuditQueue::record`]; false when the queue refused the event.
    fn enqueue(&self, event: AuditEvent) -> bool {
        if let Some(spool) = &self.spool {
            match spool.append(&event) {
                Ok(Appended::Journaled) => {}
                Ok(Appended::AlreadyHeld) => return true,
                Err(error) => {
                    let total = self.metrics.audit_spool_error();
                    if total == 1 || total % 1000 == 0 {
                        tracing::error!(
                            %error,
                            spool_errors_total = total,
                            "journaling an audit event failed; it is queued in memory only                              (lost if this process dies before writing it)"
                        );
                    }
                }
            }
        }
        let (id, tenant) = (event.id, event.tenant_id);
        let (lost, dropped, queued) = match self.queue.push(event) {
            Admission::Queued => return true,
            Admission::QueuedInPlaceOf { tenant, dropped } => (tenant, dropped, true),
            Admission::Refused => (tenant, id, false),
        };
        if let Some(spool) = &self.spool {
            spool.settle([dropped]);
        }
        self.report_drop(lost);
        queued
    }

    fn report_drop(&self, lost: mcpgate_store::TenantId) {
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

/// How often a proxy with a spool looks for journals of stopped processes to take over.
pub(crate) const TAKE_OVER_INTERVAL: Duration = Duration::from_secs(2);

/// Creates the queue and its writer task, which runs until `stop` and then drains
/// everything still queued before it returns. With `spool_root`, events are journaled
/// under it, and journals left there by stopped processes are taken over every
/// [`TAKE_OVER_INTERVAL`] until `stop_taking_over`.
pub(crate) fn start(
    db: PgPool,
    settings: WriterSettings,
    spool_root: Option<&Path>,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
    stop_taking_over: CancellationToken,
) -> std::io::Result<(AuditQueue, tokio::task::JoinHandle<()>)> {
    let spool = spool_root.map(Spool::open).transpose()?.map(Arc::new);
    let queue = Arc::new(FairQueue::new(settings.capacity, settings.batch_size));
    let writer = writer::Writer {
        db: db.clone(),
        queue: Arc::clone(&queue),
        flush_interval: settings.flush_interval,
        metrics: Arc::clone(&metrics),
        spool: spool.clone(),
    };
    let handle = tokio::spawn(writer.run(stop));
    let audit = AuditQueue {
        queue,
        metrics,
        db,
        spool,
    };
    if audit.spool.is_some() {
        tokio::spawn(take_over_orphans(audit.clone(), settings, stop_taking_over));
    }
    Ok((audit, handle))
}

/// Takes over stopped processes' journals now and every [`TAKE_OVER_INTERVAL`].
async fn take_over_orphans(audit: AuditQueue, settings: WriterSettings, stop: CancellationToken) {
    loop {
        take_over_once(&audit, settings, &stop).await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(TAKE_OVER_INTERVAL) => {}
        }
    }
}

/// Queues every event of every orphaned journal as this process's own (journaled here
/// first), then deletes the orphan's files. The queue is filled to half its capacity at
/// most, so a large journal does not crowd out live calls; an orphan not finished (the
/// process stopping, the queue refusing) stays, unlocked, for the next round or process.
async fn take_over_once(audit: &AuditQueue, settings: WriterSettings, stop: &CancellationToken) {
    let Some(spool) = audit.spool.clone() else {
        return;
    };
    let orphans = match tokio::task::spawn_blocking(move || spool.orphans()).await {
        Ok(Ok(orphans)) => orphans,
        Ok(Err(error)) => {
            tracing::warn!(%error, "looking for audit journals to take over failed");
            return;
        }
        Err(_) => return,
    };
    for orphan in orphans {
        let dir = orphan.dir().to_owned();
        match take_over(audit, orphan, settings, stop).await {
            Ok(TakeOver::Finished { events, unreadable }) => {
                audit.metrics.audit_taken_over(events as u64);
                tracing::info!(
                    events,
                    unreadable,
                    dir = %dir.display(),
                    "took over the audit journal of a stopped proxy"
                );
            }
            Ok(TakeOver::Interrupted) => return,
            Err(error) => {
                tracing::warn!(%error, dir = %dir.display(), "taking over an audit journal failed; retrying later");
            }
        }
    }
}

enum TakeOver {
    Finished { events: usize, unreadable: usize },
    Interrupted,
}

async fn take_over(
    audit: &AuditQueue,
    orphan: Orphan,
    settings: WriterSettings,
    stop: &CancellationToken,
) -> std::io::Result<TakeOver> {
    let (mut events, mut unreadable) = (0, 0);
    for path in orphan.segments()? {
        let read = tokio::task::spawn_blocking(move || Orphan::read(&path))
            .await
            .map_err(std::io::Error::other)??;
        unreadable += read.unreadable;
        for event in read.events {
            while audit.depth() >= settings.capacity / 2 {
                tokio::select! {
                    () = stop.cancelled() => return Ok(TakeOver::Interrupted),
                    () = tokio::time::sleep(settings.flush_interval) => {}
                }
            }
            if !audit.enqueue(event) {
                return Ok(TakeOver::Interrupted);
            }
            events += 1;
        }
        std::fs::remove_file(&read.path)?;
    }
    orphan.finish()?;
    Ok(TakeOver::Finished { events, unreadable })
}
