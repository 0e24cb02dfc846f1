//! Per-grant caps on what a grant holds open in this process: calls waiting for
//! approval and long-lived streams (the GET stream, legacy SSE streams). Each costs a
//! task, a connection and memory for as long as it lasts, so one runaway agent must not
//! take them all. A slot is a guard: it is given back when dropped, however the call
//! or stream ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use mcpgate_store::GrantId;

/// What a slot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SlotKind {
    /// A call held for approval.
    Held,
    /// An open server-to-client stream.
    Stream,
}

/// The slots taken, per grant and kind.
#[derive(Debug)]
pub(crate) struct Slots {
    max_held: usize,
    max_streams: usize,
    taken: Mutex<HashMap<(GrantId, SlotKind), usize>>,
}

/// A slot in use; given back on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
    key: (GrantId, SlotKind),
}

impl Slots {
    pub(crate) fn new(max_held: usize, max_streams: usize) -> Arc<Self> {
        Arc::new(Self {
            max_held,
            max_streams,
            taken: Mutex::default(),
        })
    }

    /// The cap for `kind`.
    pub(crate) fn max(&self, kind: SlotKind) -> usize {
        match kind {
            SlotKind::Held => self.max_held,
            SlotKind::Stream => self.max_streams,
        }
    }

    /// A slot of `kind` for `grant`, or `None` when the grant holds its cap already.
    pub(crate) fn take(self: &Arc<Self>, grant: GrantId, kind: SlotKind) -> Option<Slot> {
        let key = (grant, kind);
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        let count = taken.entry(key).or_default();
        if *count >= self.max(kind) {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: Arc::clone(self),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = self
            .slots
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = taken.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                taken.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_gets_its_cap_and_no_more_and_dropped_slots_come_back() {
        let slots = Slots::new(2, 1);
        let grant = GrantId::new();
        let other = GrantId::new();
        let first = slots.take(grant, SlotKind::Held).expect("one");
        let second = slots.take(grant, SlotKind::Held).expect("two");
        assert!(slots.take(grant, SlotKind::Held).is_none());
        // Other grants and other kinds are counted apart.
        assert!(slots.take(other, SlotKind::Held).is_some());
        let stream = slots.take(grant, SlotKind::Stream).expect("a stream");
        assert!(slots.take(grant, SlotKind::Stream).is_none());
        drop(first);
        assert!(slots.take(grant, SlotKind::Held).is_some());
        drop((second, stream));
        assert!(slots.taken.lock().unwrap().is_empty(), "nothing leaks");
    }
}
