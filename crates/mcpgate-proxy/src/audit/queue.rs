//! The audit queue's storage, shared fairly between tenants.
//!
//! Events are held per tenant and bounded in total. When the queue is full, the tenant
//! holding the most events loses one, its newest, to make room: a tenant flooding the
//! queue (large batches, say) loses its own rows, and a tenant holding fewer events than
//! the largest holder is always admitted. This is longest-queue drop, which gives every
//! tenant at least an equal share of the capacity under pressure without a quota to
//! tune. The writer takes batches round-robin, one event per tenant in turn, so a
//! flood does not delay another tenant's rows either.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use mcpgate_store::audit::AuditEvent;
use mcpgate_store::{AuditEventId, GrantId, TenantId};
use tokio::sync::Notify;

/// What became of a recorded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Queued,
    /// Queued, and the newest event of `tenant`, the largest holder, was dropped for it.
    QueuedInPlaceOf {
        tenant: TenantId,
        dropped: AuditEventId,
    },
    /// Not queued: the queue is full and this tenant already holds the most (or the
    /// writer has stopped).
    Refused,
}

#[derive(Debug)]
pub(crate) struct FairQueue {
    capacity: usize,
    batch_size: usize,
    inner: Mutex<Inner>,
    /// Woken when a full batch is waiting.
    pub(crate) batch_ready: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    /// Only tenants with at least one event have an entry.
    tenants: HashMap<TenantId, VecDeque<AuditEvent>>,
    /// The tenants with events, in the order the writer serves them; each once.
    turns: VecDeque<TenantId>,
    len: usize,
    uses: HashMap<GrantId, DateTime<Utc>>,
    closed: bool,
}

impl FairQueue {
    pub(crate) fn new(capacity: usize, batch_size: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            batch_size: batch_size.max(1),
            inner: Mutex::default(),
            batch_ready: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the maps consistent (every change is a
        // single push or pop), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn push(&self, event: AuditEvent) -> Admission {
        let mut inner = self.lock();
        if inner.closed {
            return Admission::Refused;
        }
        let mut admission = Admission::Queued;
        if inner.len >= self.capacity {
            let tenant = event.tenant_id;
            let own = inner.tenants.get(&tenant).map_or(0, VecDeque::len);
            let Some(largest) = inner.largest().filter(|(_, held)| *held > own) else {
                return Admission::Refused;
            };
            let Some(dropped) = inner.drop_newest(largest.0) else {
                return Admission::Refused;
            };
            admission = Admission::QueuedInPlaceOf {
                tenant: largest.0,
                dropped: dropped.id,
            };
        }
        inner.push_back(event);
        let full_batch = inner.len >= self.batch_size;
        drop(inner);
        if full_batch {
            self.batch_ready.notify_one();
        }
        admission
    }

    /// Up to `batch_size` events, round-robin across tenants, oldest first per tenant.
    pub(crate) fn take_batch(&self) -> Vec<AuditEvent> {
        let mut inner = self.lock();
        let mut batch = Vec::with_capacity(self.batch_size.min(inner.len));
        while batch.len() < self.batch_size {
            let Some(tenant) = inner.turns.pop_front() else {
                break;
            };
            let Some(events) = inner.tenants.get_mut(&tenant) else {
                continue;
            };
            if let Some(event) = events.pop_front() {
                batch.push(event);
            }
            if events.is_empty() {
                inner.tenants.remove(&tenant);
            } else {
                inner.turns.push_back(tenant);
            }
        }
        inner.len -= batch.len();
        batch
    }

    /// Puts back events the writer could not write, ahead of what arrived since, and
    /// trims the queue to its capacity the fair way (the largest holders' newest events
    /// go first). Returns the dropped events.
    pub(crate) fn restore(&self, mut events: Vec<AuditEvent>) -> Vec<AuditEvent> {
        events.sort_by_key(|event| event.at);
        let mut inner = self.lock();
        for event in events.into_iter().rev() {
            inner.push_front(event);
        }
        let mut dropped = Vec::new();
        while inner.len > self.capacity {
            let Some((largest, _)) = inner.largest() else {
                break;
            };
            let Some(event) = inner.drop_newest(largest) else {
                break;
            };
            dropped.push(event);
        }
        dropped
    }

    pub(crate) fn grant_used(&self, grant: GrantId, at: DateTime<Utc>) {
        let mut inner = self.lock();
        let last = inner.uses.entry(grant).or_insert(at);
        *last = (*last).max(at);
    }

    pub(crate) fn take_uses(&self) -> Vec<(GrantId, DateTime<Utc>)> {
        self.lock().uses.drain().collect()
    }

    /// Events waiting to be written.
    pub(crate) fn len(&self) -> usize {
        self.lock().len
    }

    /// Refuses events from now on (the writer is draining for shutdown).
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }
}

impl Inner {
    fn largest(&self) -> Option<(TenantId, usize)> {
        self.tenants
            .iter()
            .map(|(tenant, events)| (*tenant, events.len()))
            .max_by_key(|(_, held)| *held)
    }

    fn push_back(&mut self, event: AuditEvent) {
        let tenant = event.tenant_id;
        let events = self.tenants.entry(tenant).or_default();
        if events.is_empty() {
            self.turns.push_back(tenant);
        }
        events.push_back(event);
        self.len += 1;
    }

    fn push_front(&mut self, event: AuditEvent) {
        let tenant = event.tenant_id;
        let events = self.tenants.entry(tenant).or_default();
        if events.is_empty() {
            self.turns.push_front(tenant);
        }
        events.push_front(event);
        self.len += 1;
    }

    fn drop_newest(&mut self, tenant: TenantId) -> Option<AuditEvent> {
        let events = self.tenants.get_mut(&tenant)?;
        let dropped = events.pop_back();
        if dropped.is_some() {
            self.len -= 1;
        }
        if events.is_empty() {
            self.tenants.remove(&tenant);
            self.turns.retain(|waiting| *waiting != tenant);
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(tenant: TenantId) -> AuditEvent {
        AuditEvent {
            id: AuditEventId::new(),
            tenant_id: tenant,
            at: Utc::now(),
            server_id: None,
            grant_id: None,
            request_id: None,
            method: "tools/call".into(),
            tool: Some("t".into()),
            decision: "allow".into(),
            rule: None,
            reason: None,
            policy_version: None,
            upstream_status: None,
            latency_us: None,
            argument_keys: Vec::new(),
            arguments: None,
            actor: None,
        }
    }

    fn held(batch: &[AuditEvent], tenant: TenantId) -> usize {
        batch.iter().filter(|e| e.tenant_id == tenant).count()
    }

    #[test]
    fn a_flooding_tenant_loses_its_own_events_and_never_another_tenants() {
        let queue = FairQueue::new(10, 100);
        let (flooder, quiet) = (TenantId::new(), TenantId::new());
        for _ in 0..10 {
            assert_eq!(queue.push(event(flooder)), Admission::Queued);
        }
        assert_eq!(queue.push(event(flooder)), Admission::Refused, "full");
        for _ in 0..4 {
            assert!(matches!(
                queue.push(event(quiet)),
                Admission::QueuedInPlaceOf { tenant, .. } if tenant == flooder
            ));
        }
        // Equal shares now would be 5 each: the quiet tenant is still admitted at 4,
        // and at 5 it holds as much as the flooder, so its own extra event is refused.
        let newest_of_the_flooder = queue.lock().tenants[&flooder].back().unwrap().id;
        assert_eq!(
            queue.push(event(quiet)),
            Admission::QueuedInPlaceOf {
                tenant: flooder,
                dropped: newest_of_the_flooder
            }
        );
        assert_eq!(queue.push(event(quiet)), Admission::Refused);
        assert_eq!(queue.push(event(flooder)), Admission::Refused);
        assert_eq!(queue.len(), 10);
        let batch = queue.take_batch();
        assert_eq!(held(&batch, quiet), 5);
        assert_eq!(held(&batch, flooder), 5);
    }

    #[test]
    fn batches_alternate_between_tenants_and_keep_each_tenants_order() {
        let queue = FairQueue::new(100, 4);
        let (a, b) = (TenantId::new(), TenantId::new());
        let a_events: Vec<AuditEvent> = (0..6).map(|_| event(a)).collect();
        let a_ids: Vec<AuditEventId> = a_events.iter().map(|e| e.id).collect();
        for e in a_events {
            queue.push(e);
        }
        queue.push(event(b));
        let batch = queue.take_batch();
        assert_eq!(batch.len(), 4);
        assert_eq!(held(&batch, b), 1, "b is served in the first batch");
        let a_taken: Vec<AuditEventId> = batch
            .iter()
            .filter(|e| e.tenant_id == a)
            .map(|e| e.id)
            .collect();
        assert_eq!(a_taken, a_ids[..3]);
        assert_eq!(queue.len(), 3);
    }

    #[test]
    fn restored_events_come_first_and_the_overflow_is_the_largest_holders() {
        let queue = FairQueue::new(6, 3);
        let (a, b) = (TenantId::new(), TenantId::new());
        for _ in 0..3 {
            queue.push(event(a));
        }
        let failed = queue.take_batch();
        let failed_ids: Vec<AuditEventId> = failed.iter().map(|e| e.id).collect();
        // While the batch was out, the queue filled up again.
        for _ in 0..4 {
            queue.push(event(a));
        }
        for _ in 0..2 {
            queue.push(event(b));
        }
        let dropped: Vec<TenantId> = queue.restore(failed).iter().map(|e| e.tenant_id).collect();
        assert_eq!(dropped, [a, a, a]);
        assert_eq!(queue.len(), 6);
        let first = queue.take_batch();
        let second = queue.take_batch();
        let a_order: Vec<AuditEventId> = first
            .iter()
            .chain(&second)
            .filter(|e| e.tenant_id == a)
            .map(|e| e.id)
            .collect();
        assert_eq!(a_order.len(), 4);
        assert_eq!(a_order[..3], failed_ids[..], "the failed batch goes first");
        assert_eq!(held(&first, b) + held(&second, b), 2);
    }

    #[test]
    fn a_closed_queue_refuses_events() {
        let queue = FairQueue::new(10, 10);
        queue.close();
        assert_eq!(queue.push(event(TenantId::new())), Admission::Refused);
        assert_eq!(queue.len(), 0);
    }
}
