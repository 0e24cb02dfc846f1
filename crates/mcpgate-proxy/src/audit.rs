//! The audit trail: every decision becomes an [`AuditEvent`] on a bounded queue, and one
//! background writer inserts them in batches, together with the grants' last-used times.
//! The request path never waits for Postgres; a full queue drops (and counts, and logs)
//! events rather than slowing calls down. Policies that can accept no loss set
//! `settings.audit: strict`, and their calls' rows are written by [`AuditQueue::write_now`]
//! before the call is forwarded.

mod arguments;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mcpgate_store::audit::{insert_audit_events, AuditEvent};
use mcpgate_store::grants::touch_grants;
use mcpgate_store::{GrantId, PgPool, StoreError};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub(crate) use arguments::{argument_keys, audited_arguments};

use crate::metrics::Metrics;

/// What the writer receives.
#[derive(Debug)]
pub(crate) enum AuditMessage {
    Event(Box<AuditEvent>),
    GrantUsed(GrantId, DateTime<Utc>),
}

/// The request side of the queue.
#[derive(Debug, Clone)]
pub(crate) struct AuditQueue {
    sender: mpsc::Sender<AuditMessage>,
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
        self.send(AuditMessage::Event(Box::new(event)));
    }

    pub(crate) fn grant_used(&self, grant: GrantId) {
        self.send(AuditMessage::GrantUsed(grant, Utc::now()));
    }

    fn send(&self, message: AuditMessage) {
        if self.sender.try_send(message).is_err() {
            let total = self.metrics.audit_dropped(1);
            if total == 1 || total % 1000 == 0 {
                tracing::error!(
                    dropped_total = total,
                    "AUDIT EVENTS LOST: the audit queue is full (Postgres too slow or down); \
                     see mcpgate_proxy_audit_dropped_total. Policies that can accept no loss \
                     should set settings.audit: strict"
                );
            }
        }
    }

    /// Messages waiting to be written.
    pub(crate) fn depth(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
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
    let (sender, receiver) = mpsc::channel(settings.capacity.max(1));
    let writer = Writer {
        db: db.clone(),
        settings,
        receiver,
        events: Vec::new(),
        uses: HashMap::new(),
        metrics: Arc::clone(&metrics),
    };
    let handle = tokio::spawn(writer.run(stop));
    (
        AuditQueue {
            sender,
            metrics,
            db,
        },
        handle,
    )
}

struct Writer {
    db: PgPool,
    settings: WriterSettings,
    receiver: mpsc::Receiver<AuditMessage>,
    events: Vec<AuditEvent>,
    uses: HashMap<GrantId, DateTime<Utc>>,
    metrics: Arc<Metrics>,
}

impl Writer {
    async fn run(mut self, stop: CancellationToken) {
        let mut ticker = tokio::time::interval(self.settings.flush_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticker.tick() => self.flush().await,
                message = self.receiver.recv() => match message {
                    Some(message) => {
                        self.take(message);
                        if self.events.len() >= self.settings.batch_size {
                            self.flush().await;
                        }
                    }
                    None => break,
                },
            }
        }
        // Shutdown: everything already queued is written before the process exits.
        self.receiver.close();
        while let Some(message) = self.receiver.recv().await {
            self.take(message);
            if self.events.len() >= self.settings.batch_size {
                self.flush().await;
            }
        }
        self.flush().await;
    }

    fn take(&mut self, message: AuditMessage) {
        match message {
            AuditMessage::Event(event) => self.events.push(*event),
            AuditMessage::GrantUsed(grant, at) => {
                let last = self.uses.entry(grant).or_insert(at);
                *last = (*last).max(at);
            }
        }
    }

    /// Writes what is pending. A failed batch stays pending for the next flush, up to a
    /// bound, so a short Postgres outage loses nothing and a long one cannot eat memory.
    async fn flush(&mut self) {
        if !self.events.is_empty() {
            for chunk_start in (0..self.events.len()).step_by(self.settings.batch_size.max(1)) {
                let end = (chunk_start + self.settings.batch_size).min(self.events.len());
                if let Err(error) =
                    insert_audit_events(&self.db, &self.events[chunk_start..end]).await
                {
                    tracing::warn!(%error, pending = self.events.len(), "writing audit events failed; retrying");
                    let keep = self.settings.capacity.max(self.settings.batch_size);
                    self.events.drain(..chunk_start);
                    if self.events.len() > keep {
                        let dropped = self.events.len() - keep;
                        let total = self
                            .metrics
                            .audit_dropped(u64::try_from(dropped).unwrap_or(u64::MAX));
                        tracing::error!(
                            dropped,
                            dropped_total = total,
                            "AUDIT EVENTS LOST: the backlog outgrew the queue while Postgres \
                             was failing; dropping the oldest. Policies that can accept no \
                             loss should set settings.audit: strict"
                        );
                        self.events.drain(..dropped);
                    }
                    return;
                }
            }
            self.events.clear();
        }
        if !self.uses.is_empty() {
            let uses: Vec<(GrantId, DateTime<Utc>)> = self.uses.drain().collect();
            if let Err(error) = touch_grants(&self.db, &uses).await {
                tracing::warn!(%error, "recording grant use failed");
            }
        }
    }
}
