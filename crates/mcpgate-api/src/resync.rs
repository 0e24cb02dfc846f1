//! Catalogues kept fresh without a person pressing re-sync: a proxy that sees a
//! server's tools drift publishes `Change::SyncRequested` and this replica answers
//! it ([`requests`]), and every server is re-synced once per interval
//! ([`periodic`]). Both run the same sync as the REST endpoint and the dashboard
//! (`domain::servers::sync`), which publishes `Change::Server` so proxies reload.
//!
//! An upstream decides when its proxy asks, so the asking is bounded here: one
//! automatic sync per server per cooldown across every replica (a Redis claim),
//! and at most [`CONCURRENT_SYNCS`] discoveries at a time per replica.

mod periodic;
mod requests;

use std::sync::Arc;
use std::time::Duration;

use mcpgate_store::sync_claims::claim_sync;
use mcpgate_store::{ServerId, TenantId};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::domain::servers::sync;
use crate::error::ApiError;
use crate::state::AppState;

/// Discoveries one replica runs at once for automatic re-syncs.
pub(crate) const CONCURRENT_SYNCS: usize = 4;

/// How the automatic re-syncs run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResyncSettings {
    /// Every server is re-synced once per interval; zero turns that off.
    pub interval: Duration,
    /// The least time between two automatic re-syncs of one server.
    pub cooldown: Duration,
}

/// Starts the request follower and, unless the interval is zero, the periodic
/// re-sync; both end when `stop` is cancelled.
pub(crate) fn spawn(
    state: AppState,
    settings: ResyncSettings,
    stop: CancellationToken,
) -> Vec<JoinHandle<()>> {
    let resyncer = Resyncer {
        state,
        cooldown: settings.cooldown,
        permits: Arc::new(Semaphore::new(CONCURRENT_SYNCS)),
        stop: stop.clone(),
    };
    let mut tasks = vec![tokio::spawn(requests::answer_sync_requests(
        resyncer.clone(),
        stop.clone(),
    ))];
    if !settings.interval.is_zero() {
        tasks.push(tokio::spawn(periodic::resync_periodically(
            resyncer,
            settings.interval,
            stop,
        )));
    }
    tasks
}

/// Runs automatic syncs: claimed, bounded, logged, never fatal.
#[derive(Debug, Clone)]
struct Resyncer {
    state: AppState,
    cooldown: Duration,
    permits: Arc<Semaphore>,
    stop: CancellationToken,
}

impl Resyncer {
    /// Claims the server for the cooldown; `false` when another replica (or an
    /// earlier request) already re-synced it within it, or Redis cannot say.
    async fn claim(&self, tenant: TenantId, server: ServerId) -> bool {
        match claim_sync(&self.state.redis, tenant, server, self.cooldown).await {
            Ok(claimed) => {
                if !claimed {
                    tracing::debug!(%server, "re-synced within the cooldown; skipping");
                }
                claimed
            }
            Err(error) => {
                tracing::warn!(%error, %server, "cannot claim a re-sync in Redis; skipping it");
                false
            }
        }
    }

    /// Syncs in the background once a permit is free (a permit held by the
    /// caller is used instead). Ends early, harmlessly, when `stop` is cancelled:
    /// a sync is one transaction.
    fn start(
        &self,
        tenant: TenantId,
        server: ServerId,
        reason: String,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) {
        let this = self.clone();
        tokio::spawn(async move {
            let run = async {
                let _permit = match permit {
                    Some(permit) => permit,
                    None => match Arc::clone(&this.permits).acquire_owned().await {
                        Ok(permit) => permit,
                        Err(_) => return,
                    },
                };
                this.sync(tenant, server, &reason).await;
            };
            tokio::select! {
                () = this.stop.cancelled() => {}
                () = run => {}
            }
        });
    }

    async fn sync(&self, tenant: TenantId, server: ServerId, reason: &str) {
        match sync(&self.state, tenant, server).await {
            Ok(report)
                if report.added.is_empty()
                    && report.changed.is_empty()
                    && report.removed.is_empty() =>
            {
                tracing::debug!(%tenant, %server, reason, "automatic re-sync: no change");
            }
            Ok(report) => tracing::info!(
                %tenant, %server, reason,
                added = ?report.added, changed = ?report.changed, removed = ?report.removed,
                "automatic re-sync found changes"
            ),
            Err(ApiError::NotFound(_)) => {
                tracing::debug!(%tenant, %server, reason, "server gone before its re-sync");
            }
            Err(error) => tracing::warn!(
                %tenant, %server, reason, error = %format!("{error:#}"),
                "automatic re-sync failed; the next request or period retries"
            ),
        }
    }
}
