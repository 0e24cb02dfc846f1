//! Which held calls this process has, so a change message can wake the right one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use mcpgate_store::ApprovalId;
use tokio::sync::Notify;

/// The held calls of this process, by approval, to wake when a decision is announced.
#[derive(Debug, Default)]
pub(crate) struct Waiters(Mutex<HashMap<ApprovalId, Arc<Notify>>>);

impl Waiters {
    /// A change message said `approval` was decided: wake its call, if it is held here.
    pub(crate) fn wake(&self, approval: ApprovalId) {
        let waiters = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(notify) = waiters.get(&approval) {
            notify.notify_one();
        }
    }

    pub(super) fn register(self: &Arc<Self>, approval: ApprovalId) -> Registration {
        let notify = Arc::new(Notify::new());
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(approval, Arc::clone(&notify));
        Registration {
            waiters: Arc::clone(self),
            approval,
            notify,
        }
    }
}

/// Removes the waiter when the held call ends, however it ends.
pub(super) struct Registration {
    waiters: Arc<Waiters>,
    approval: ApprovalId,
    pub(super) notify: Arc<Notify>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.waiters
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.approval);
    }
}
