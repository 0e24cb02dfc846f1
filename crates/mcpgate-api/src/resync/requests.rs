//! Answering `Change::SyncRequested`: every replica hears each request, the first
//! to claim the server syncs it, and repeats within the cooldown are dropped
//! (the periodic re-sync catches whatever a dropped request would have found).

use std::time::Duration;

use futures_util::StreamExt;
use mcpgate_store::changes::{self, capped_reason, Change};
use tokio_util::sync::CancellationToken;

use super::Resyncer;

/// Follows the change stream until `stop`, resubscribing with backoff when
/// Redis drops; requests published while unsubscribed are lost, which is
/// harmless (nothing is stored in them, and the periodic re-sync runs anyway).
pub(super) async fn answer_sync_requests(resyncer: Resyncer, stop: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let subscribed = tokio::select! {
            () = stop.cancelled() => return,
            subscribed = changes::subscribe(&resyncer.state.redis) => subscribed,
        };
        match subscribed {
            Ok(stream) => {
                backoff = Duration::from_millis(100);
                let mut stream = std::pin::pin!(stream);
                loop {
                    let change = tokio::select! {
                        () = stop.cancelled() => return,
                        change = stream.next() => change,
                    };
                    match change {
                        Some(Change::SyncRequested {
                            tenant,
                            server,
                            reason,
                        }) => {
                            if resyncer.claim(tenant, server).await {
                                let reason = capped_reason(&reason);
                                resyncer.start(tenant, server, reason, None);
                            }
                        }
                        Some(
                            Change::Server { .. }
                            | Change::ServerDeleted { .. }
                            | Change::Grant { .. }
                            | Change::Approval { .. },
                        ) => {}
                        None => break,
                    }
                }
                tracing::warn!("the change stream ended; resubscribing for sync requests");
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "cannot subscribe to sync requests");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
