//! One automatic catalogue re-sync per server per cooldown, whichever API replica
//! asks first: the claim is a Redis key that expires by itself, so a crashed
//! replica holds nothing for longer than the cooldown.

use std::time::Duration;

use crate::ids::{ServerId, TenantId};
use crate::{Redis, StoreError};

/// The key that marks a server as re-synced within the cooldown; the tenant is its
/// cluster hash tag, like every key mcpgate keeps.
pub fn sync_claim_key(tenant: TenantId, server: ServerId) -> String {
    format!("mcpgate:sync:{{{tenant}}}:{server}")
}

/// Claims the server's next automatic re-sync for `cooldown`
/// (`SET key 1 NX PX <ms>`): `true` when this caller should sync, `false` when
/// someone did within the cooldown.
pub async fn claim_sync(
    redis: &Redis,
    tenant: TenantId,
    server: ServerId,
    cooldown: Duration,
) -> Result<bool, StoreError> {
    // PX rather than EX so tests can use sub-second cooldowns; 0 is not a valid expiry.
    let millis = u64::try_from(cooldown.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let mut conn = redis.connection();
    let set: Option<String> = redis::cmd("SET")
        .arg(sync_claim_key(tenant, server))
        .arg(1)
        .arg("NX")
        .arg("PX")
        .arg(millis)
        .query_async(&mut conn)
        .await?;
    Ok(set.is_some())
}
