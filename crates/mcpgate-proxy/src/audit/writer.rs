//! The background writer: batches from the fair queue into Postgres.
//!
//! Three kinds of failure, three answers:
//! - Postgres unavailable (connection refused, timeout, a missing table): the batch
//!   goes back to the queue and is retried at the next flush, so a short outage loses
//!   nothing; the queue's bound (the largest holders' newest events dropped first)
//!   keeps a long one from eating memory.
//! - Postgres refuses the rows' contents: the batch is split in halves until the bad
//!   row or rows stand alone; every other row is written, and each bad one is set aside
//!   in the dead-letter table, counted and logged. One row can never stop the writer.
//! - The dead-letter table refuses a row too: it is dropped, counted and logged with its
//!   content.
//!
//! Each event done with (written, set aside or dropped) is settled in the spool, which
//! then forgets it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use mcpgate_store::audit::{
    insert_audit_events, insert_dead_letter, AuditEvent, AuditWriteFailure,
};
use mcpgate_store::grants::touch_grants;
use mcpgate_store::{AuditEventId, PgPool, StoreError};
use tokio_util::sync::CancellationToken;

use super::queue::FairQueue;
use super::spool::Spool;
use crate::metrics::Metrics;

pub(super) struct Writer {
    pub(super) db: PgPool,
    pub(super) queue: Arc<FairQueue>,
    pub(super) flush_interval: Duration,
    pub(super) metrics: Arc<Metrics>,
    pub(super) spool: Option<Arc<Spool>>,
}

/// Events that could not be written because Postgres is unavailable.
struct Unwritten(Vec<AuditEvent>);

impl Writer {
    /// Runs until `stop`, then writes everything still queued before it returns (the
    /// caller bounds how long it may take).
    pub(super) async fn run(self, stop: CancellationToken) {
        let mut ticker = tokio::time::interval(self.flush_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticker.tick() => { self.flush().await; }
                () = self.queue.batch_ready.notified() => { self.flush().await; }
            }
        }
        self.queue.close();
        while !self.flush().await {
            tokio::time::sleep(self.flush_interval).await;
        }
        if let Some(spool) = &self.spool {
            spool.close();
        }
    }

    /// Writes what is pending, batch by batch; false if Postgres was unavailable (what
    /// could not be written is back in the queue).
    async fn flush(&self) -> bool {
        let mut written = true;
        // What is pending now, not what keeps arriving: a steady flood must not keep the
        // writer from seeing its stop signal.
        let mut pending = self.queue.len();
        while pending > 0 {
            let batch = self.queue.take_batch();
            if batch.is_empty() {
                break;
            }
            pending = pending.saturating_sub(batch.len());
            let ids: Vec<AuditEventId> = match self.spool {
                Some(_) => batch.iter().map(|event| event.id).collect(),
                None => Vec::new(),
            };
            if let Err(Unwritten(events)) = self.write(batch).await {
                // Rows of the batch written before the outage (while isolating a
                // refused one) are done with; the rest go back.
                let unwritten: HashSet<AuditEventId> = events.iter().map(|e| e.id).collect();
                self.settle(ids.into_iter().filter(|id| !unwritten.contains(id)));
                let dropped = self.queue.restore(events);
                self.settle(dropped.iter().map(|event| event.id));
                let tenants: Vec<_> = dropped.iter().map(|event| event.tenant_id).collect();
                self.report_backlog_drops(&tenants);
                written = false;
                break;
            }
            self.settle(ids);
        }
        let uses = self.queue.take_uses();
        if !uses.is_empty() {
            if let Err(error) = touch_grants(&self.db, &uses).await {
                tracing::warn!(%error, "recording grant use failed");
            }
        }
        written
    }

    fn settle(&self, ids: impl IntoIterator<Item = AuditEventId>) {
        if let Some(spool) = &self.spool {
            spool.settle(ids);
        }
    }

    async fn write(&self, batch: Vec<AuditEvent>) -> Result<(), Unwritten> {
        match insert_audit_events(&self.db, &batch).await {
            Ok(()) => Ok(()),
            Err(error) => match AuditWriteFailure::of(&error) {
                AuditWriteFailure::Unavailable => {
                    tracing::warn!(%error, events = batch.len(), "writing audit events failed; retrying");
                    Err(Unwritten(batch))
                }
                AuditWriteFailure::Refused => self.isolate(batch, error).await,
            },
        }
    }

    /// Bisects a batch Postgres refused: halves are retried until each refused row is
    /// alone, and those are set aside. Rows already written in an earlier half are not
    /// written twice (and would be ignored if they were: ids are the events' own).
    async fn isolate(&self, batch: Vec<AuditEvent>, error: StoreError) -> Result<(), Unwritten> {
        tracing::warn!(%error, events = batch.len(), "Postgres refused a batch of audit events; isolating the refused rows");
        // Groups still to write, and the error a group is already known to fail with.
        let mut groups: Vec<(Vec<AuditEvent>, Option<StoreError>)> = vec![(batch, Some(error))];
        while let Some((group, known)) = groups.pop() {
            let error = match known {
                Some(error) => error,
                None => match insert_audit_events(&self.db, &group).await {
                    Ok(()) => continue,
                    Err(error) => match AuditWriteFailure::of(&error) {
                        AuditWriteFailure::Refused => error,
                        AuditWriteFailure::Unavailable => {
                            tracing::warn!(%error, "writing audit events failed; retrying");
                            groups.push((group, None));
                            return Err(unwritten(groups));
                        }
                    },
                },
            };
            if let [event] = group.as_slice() {
                if let Err(unavailable) = self.set_aside(event, &error).await {
                    tracing::warn!(error = %unavailable, "setting an audit event aside failed; retrying");
                    groups.push((group, None));
                    return Err(unwritten(groups));
                }
                continue;
            }
            let mut first = group;
            let second = first.split_off(first.len() / 2);
            groups.push((second, None));
            groups.push((first, None));
        }
        Ok(())
    }

    /// Keeps `event` in the dead-letter table. An error only when Postgres is
    /// unavailable (the event should be retried); a refusal there too drops it.
    async fn set_aside(&self, event: &AuditEvent, refused: &StoreError) -> Result<(), StoreError> {
        match insert_dead_letter(&self.db, event, &refused.to_string()).await {
            Ok(()) => {
                let total = self.metrics.audit_dead_lettered(1);
                tracing::error!(
                    tenant = %event.tenant_id,
                    event = %event.id,
                    error = %refused,
                    dead_letter_total = total,
                    "AUDIT EVENT SET ASIDE: Postgres refused it even after sanitising; it is \
                     kept in audit_dead_letter (see mcpgate_proxy_audit_dead_letter_total) \
                     and the writer carries on"
                );
                Ok(())
            }
            Err(error) if AuditWriteFailure::of(&error) == AuditWriteFailure::Unavailable => {
                Err(error)
            }
            Err(error) => {
                let total = self.metrics.audit_dropped(1);
                let content = serde_json::to_string(event).unwrap_or_default();
                tracing::error!(
                    tenant = %event.tenant_id,
                    event = %content,
                    error = %refused,
                    dead_letter_error = %error,
                    dropped_total = total,
                    "AUDIT EVENT LOST: Postgres refused it and the dead-letter table refused \
                     it too; its content is in this log line"
                );
                Ok(())
            }
        }
    }

    fn report_backlog_drops(&self, dropped: &[mcpgate_store::TenantId]) {
        let Some(largest) = dropped.first() else {
            return;
        };
        let total = self
            .metrics
            .audit_dropped(u64::try_from(dropped.len()).unwrap_or(u64::MAX));
        tracing::error!(
            dropped = dropped.len(),
            dropped_total = total,
            tenant = %largest,
            "AUDIT EVENTS LOST: the backlog outgrew the queue while Postgres was failing; \
             dropping the newest events of the tenants holding the most (this tenant first). \
             Policies that can accept no loss should set settings.audit: strict"
        );
    }
}

fn unwritten(groups: Vec<(Vec<AuditEvent>, Option<StoreError>)>) -> Unwritten {
    Unwritten(groups.into_iter().flat_map(|(group, _)| group).collect())
}
