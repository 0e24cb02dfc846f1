//! Change notifications from the control plane to the proxies.
//!
//! The API writes to Postgres first, then publishes a small message; each proxy
//! reloads the named item from Postgres. Messages carry no data of their own, so a
//! lost or duplicated one does no harm: the proxies also resync periodically.

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::ids::{ApprovalId, GrantId, ServerId, TenantId};
use crate::{Redis, StoreError};

/// The one channel every change goes out on.
pub const CHANGES_CHANNEL: &str = "mcpgate:changes";

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A server's settings, tools or policy.
    Server { tenant: TenantId, server: ServerId },
    /// A server was deleted.
    ServerDeleted { tenant: TenantId, server: ServerId },
    /// A grant's scope, policy, expiry, version or revocation.
    Grant { tenant: TenantId, grant: GrantId },
    /// A held call was decided.
    Approval {
        tenant: TenantId,
        approval: ApprovalId,
        status: String,
    },
}

/// Publishes `change`. Failure is returned but is not fatal to the caller's
/// write: proxies catch up at their next resync.
pub async fn publish(redis: &Redis, change: &Change) -> Result<(), StoreError> {
    let payload = serde_json::to_string(change).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut conn = redis.connection();
    redis::cmd("PUBLISH")
        .arg(CHANGES_CHANNEL)
        .arg(payload)
        .query_async::<i64>(&mut conn)
        .await?;
    Ok(())
}

/// Subscribes to the changes channel; the stream ends when the connection drops
/// (callers resubscribe and resync).
pub async fn subscribe(
    redis: &Redis,
) -> Result<impl futures_util::Stream<Item = Change> + Send + 'static, StoreError> {
    let mut pubsub = redis.client().get_async_pubsub().await?;
    pubsub.subscribe(CHANGES_CHANNEL).await?;
    Ok(pubsub.into_on_message().filter_map(|message| async move {
        let payload: String = message.get_payload().ok()?;
        match serde_json::from_str(&payload) {
            Ok(change) => Some(change),
            Err(error) => {
                tracing::warn!(%error, "ignoring an unreadable change message");
                None
            }
        }
    }))
}
