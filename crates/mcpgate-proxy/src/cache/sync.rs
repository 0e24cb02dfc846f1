//! Keeping the cache true: the change stream swaps in fresh entries within
//! milliseconds of a write, and a periodic resync heals what a lost message (or a
//! Redis outage) missed.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mcpgate_store::changes::{self, Change};
use mcpgate_store::{servers, Redis, StoreError};
use tokio_util::sync::CancellationToken;

use super::Cache;
use crate::approval::Waiters;

/// Follows the change stream until `stop`, resubscribing with backoff; resyncs
/// everything after each (re)subscription, since messages may have been missed.
/// Announced approval decisions wake the held call they concern.
pub(crate) async fn follow_changes(
    cache: Arc<Cache>,
    approvals: Arc<Waiters>,
    redis: Redis,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let subscribed = tokio::select! {
            () = stop.cancelled() => return,
            subscribed = changes::subscribe(&redis) => subscribed,
        };
        match subscribed {
            Ok(stream) => {
                backoff = Duration::from_millis(100);
                resync(&cache).await;
                let mut stream = std::pin::pin!(stream);
                loop {
                    let change = tokio::select! {
                        () = stop.cancelled() => return,
                        change = stream.next() => change,
                    };
                    match change {
                        Some(Change::Approval { approval, .. }) => approvals.wake(approval),
                        Some(change) => apply(&cache, change).await,
                        None => break,
                    }
                }
                tracing::warn!("the change stream ended; resubscribing");
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "cannot subscribe to changes");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Re-reads loaded entries every `interval` until `stop`.
pub(crate) async fn resync_periodically(
    cache: Arc<Cache>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticker.tick() => resync(&cache).await,
        }
    }
}

/// Swaps in what changed. Only loaded entries are reloaded: the others load on first use.
async fn apply(cache: &Cache, change: Change) {
    let result = match change {
        Change::Server { tenant, server } if cache.is_server_loaded(server) => {
            cache.reload_server(tenant, server).await.map(drop)
        }
        Change::ServerDeleted { server, .. } => {
            cache.forget_server(server);
            Ok(())
        }
        Change::Grant { tenant, grant } if cache.is_grant_loaded(grant) => {
            cache.reload_grant(tenant, grant).await.map(drop)
        }
        Change::Server { .. } | Change::Grant { .. } | Change::Approval { .. } => Ok(()),
        Change::SyncRequested { .. } => Ok(()),
    };
    if let Err(error) = result {
        tracing::warn!(%error, "reloading after a change failed; the next resync retries");
    }
}

/// Reloads servers whose revision moved and every loaded grant (one small row each).
pub(crate) async fn resync(cache: &Cache) {
    for (tenant, id, revision) in cache.loaded_servers() {
        let result = match servers::server(cache.db(), tenant, id).await {
            Ok(server) if server.revision == revision => Ok(()),
            Ok(_) => cache.reload_server(tenant, id).await.map(drop),
            Err(StoreError::NotFound) => {
                cache.forget_server(id);
                Ok(())
            }
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            tracing::warn!(%error, server = %id, "resync of a server failed");
        }
    }
    for (tenant, id) in cache.loaded_grants() {
        if let Err(error) = cache.reload_grant(tenant, id).await {
            tracing::warn!(%error, grant = %id, "resync of a grant failed");
        }
    }
}
