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
    /// A proxy saw a server's tools drift (a `notifications/tools/list_changed`, or a
    /// definition that differs from the catalogue) and asks the API to re-sync it.
    /// `reason` is free text for logs, capped at [`MAX_SYNC_REASON_CHARS`] on publish.
    SyncRequested {
        tenant: TenantId,
        server: ServerId,
        reason: String,
    },
}

/// The longest `SyncRequested` reason sent; the text may quote an upstream's tool
/// names, so it is bounded and stripped of control characters.
pub const MAX_SYNC_REASON_CHARS: usize = 200;

/// `reason` as it is published and logged: control characters (NUL, line breaks)
/// become spaces and the text is cut at [`MAX_SYNC_REASON_CHARS`] characters.
pub fn capped_reason(reason: &str) -> String {
    reason
        .chars()
        .take(MAX_SYNC_REASON_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Publishes `change`. Failure is returned but is not fatal to the caller's
/// write: proxies catch up at their next resync.
pub async fn publish(redis: &Redis, change: &Change) -> Result<(), StoreError> {
    let payload = match change {
        Change::SyncRequested {
            tenant,
            server,
            reason,
        } => serde_json::to_string(&Change::SyncRequested {
            tenant: *tenant,
            server: *server,
            reason: capped_reason(reason),
        }),
        other => serde_json::to_string(other),
    }
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
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
    let mut pubsub = redis.pubsub().await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_request_is_tagged_sync_requested_on_the_wire() {
        let tenant = TenantId::new();
        let server = ServerId::new();
        let change = Change::SyncRequested {
            tenant,
            server,
            reason: "tools/list_changed notification".into(),
        };
        let wire = serde_json::to_value(&change).unwrap();
        assert_eq!(wire["kind"], "sync_requested");
        assert_eq!(wire["server"], server.to_string());
        assert_eq!(wire["reason"], "tools/list_changed notification");
        assert_eq!(serde_json::from_value::<Change>(wire).unwrap(), change);
    }

    #[test]
    fn a_long_reason_with_control_characters_is_capped_and_cleaned() {
        let hostile = format!("tool x\u{0}\n{}", "é".repeat(1000));
        let capped = capped_reason(&hostile);
        assert_eq!(capped.chars().count(), MAX_SYNC_REASON_CHARS);
        assert!(capped.starts_with("tool x  é"), "{capped}");
        assert!(!capped.chars().any(char::is_control));
    }
}
