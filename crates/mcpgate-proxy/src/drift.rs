//! Tool definitions checked as they pass, not only at the last sync. Every tool in a
//! `tools/list` answer is fingerprinted (the catalogue's own fingerprint) and compared
//! with the catalogue: a definition that differs from the approved one counts as
//! changed at once (hidden, and its calls refused, when the server blocks changed
//! tools), and any difference from the catalogue — or a `notifications/tools/list_changed`
//! from the upstream — asks the control plane to re-sync the server
//! (`Change::SyncRequested`), at most once per [`REQUEST_INTERVAL`] per server and process.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use mcpgate_catalog::{fingerprint, ToolDefinition};
use mcpgate_store::changes::{capped_reason, publish, Change};
use mcpgate_store::{Redis, ServerId, TenantId};
use serde_json::value::RawValue;

use crate::cache::ServerEntry;

/// The shortest time between two re-sync requests for one server from one process.
pub(crate) const REQUEST_INTERVAL: Duration = Duration::from_secs(30);

/// Sends re-sync requests, rate-limited per server.
#[derive(Debug)]
pub(crate) struct Drift {
    redis: Redis,
    requested: Mutex<HashMap<ServerId, Instant>>,
}

/// What a listed definition is, against the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listed {
    /// It is the definition that was approved.
    pub(crate) approved: bool,
    /// It is the definition the catalogue holds (else the catalogue is stale).
    pub(crate) as_synced: bool,
}

impl Drift {
    pub(crate) fn new(redis: Redis) -> Self {
        Self {
            redis,
            requested: Mutex::default(),
        }
    }

    /// Asks the control plane to re-sync `server`, unless this process asked recently.
    pub(crate) fn request_sync(&self, tenant: TenantId, server: ServerId, reason: &str) {
        {
            let mut requested = self
                .requested
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if requested
                .get(&server)
                .is_some_and(|at| now.duration_since(*at) < REQUEST_INTERVAL)
            {
                return;
            }
            requested.retain(|_, at| now.duration_since(*at) < REQUEST_INTERVAL);
            requested.insert(server, now);
        }
        let change = Change::SyncRequested {
            tenant,
            server,
            reason: capped_reason(reason),
        };
        tracing::info!(%server, reason, "asking the control plane to re-sync a server's tools");
        let redis = self.redis.clone();
        tokio::spawn(async move {
            if let Err(error) = publish(&redis, &change).await {
                tracing::warn!(%error, "publishing a re-sync request failed");
            }
        });
    }
}

/// Compares a listed tool's definition with the catalogue's entry for it.
pub(crate) fn check(server: &ServerEntry, name: &str, definition: &RawValue) -> Listed {
    let Some(entry) = server.tools.get(name) else {
        return Listed {
            approved: false,
            as_synced: false,
        };
    };
    let Ok(tool) = serde_json::from_str::<ToolDefinition>(definition.get()) else {
        // A definition that cannot be read is not the one approved.
        return Listed {
            approved: false,
            as_synced: false,
        };
    };
    let live = fingerprint(&tool);
    Listed {
        approved: entry.approved.as_deref() == Some(live.as_str()),
        as_synced: *entry.fingerprint == *live.as_str(),
    }
}
