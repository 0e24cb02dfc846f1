//! Keeping `audit_events` partitioned: daily partitions made ahead, old ones dropped.
//!
//! The partition DDL lives in two SQL functions of the migration
//! (`audit_events_create_partitions`, `audit_events_drop_partitions`); this module
//! decides when and how far. Whole partitions are dropped only once they are older
//! than the longest retention of any tenant; tenants keeping their rows for less have
//! their older rows deleted from the partitions that remain.

use chrono::{DateTime, Days, TimeDelta, Utc};
use sqlx::PgPool;

use crate::ids::TenantId;
use crate::StoreError;

/// The session-free advisory lock one maintenance run holds (`mcpgmnt1`): replicas
/// that find it taken skip their run, so partitions are made and dropped in one place.
const MAINTENANCE_LOCK: i64 = 0x6d63_7067_6d6e_7431;

/// How long audit rows are kept, and how far ahead partitions are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRetention {
    /// Days a tenant's rows are kept unless `tenants.audit_retention_days` says otherwise.
    pub default_days: u32,
    /// Days of partitions kept ready beyond today: how long the writers can go on
    /// while no maintenance runs.
    pub days_ahead: u32,
}

impl Default for AuditRetention {
    fn default() -> Self {
        Self {
            default_days: 90,
            days_ahead: 14,
        }
    }
}

/// What one maintenance run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditMaintenance {
    /// Partitions created.
    pub created: i32,
    /// Partitions dropped, by name.
    pub dropped: Vec<String>,
    /// Rows deleted for tenants with a retention shorter than the longest.
    pub deleted_rows: u64,
}

/// Makes the partitions up to `days_ahead` after `now`'s day, drops those wholly older
/// than the longest retention, and deletes older rows of tenants keeping theirs for
/// less. `None` when another replica is running it at this moment.
pub async fn maintain_audit_partitions(
    pool: &PgPool,
    retention: AuditRetention,
    now: DateTime<Utc>,
) -> Result<Option<AuditMaintenance>, StoreError> {
    let today = now.date_naive();
    let mut transaction = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(MAINTENANCE_LOCK)
        .fetch_one(&mut *transaction)
        .await?;
    if !locked {
        return Ok(None);
    }
    let last_day = today
        .checked_add_days(Days::new(u64::from(retention.days_ahead)))
        .unwrap_or(today);
    let created: i32 = sqlx::query_scalar("SELECT audit_events_create_partitions($1, $2)")
        .bind(today)
        .bind(last_day)
        .fetch_one(&mut *transaction)
        .await?;
    let default_days = i32::try_from(retention.default_days).unwrap_or(i32::MAX);
    let longest: i32 = sqlx::query_scalar(
        "SELECT greatest($1, coalesce(max(audit_retention_days), 0)) FROM tenants",
    )
    .bind(default_days)
    .fetch_one(&mut *transaction)
    .await?;
    let dropped: Vec<String> = sqlx::query_scalar("SELECT audit_events_drop_partitions($1)")
        .bind(now - TimeDelta::days(i64::from(longest)))
        .fetch_all(&mut *transaction)
        .await?;
    // The DDL holds locks writers wait on: commit it before deleting anything.
    transaction.commit().await?;
    // Short-retention tenants: their rows in the partitions kept for others, pruned to
    // the partitions before each tenant's cut-off. Each delete is its own statement and
    // idempotent, so a replica starting its run meanwhile does no harm.
    let shorter: Vec<(TenantId, i32)> = sqlx::query_as(
        "SELECT id, coalesce(audit_retention_days, $1) FROM tenants \
         WHERE coalesce(audit_retention_days, $1) < $2",
    )
    .bind(default_days)
    .bind(longest)
    .fetch_all(pool)
    .await?;
    let mut deleted_rows = 0;
    for (tenant, days) in shorter {
        deleted_rows += sqlx::query("DELETE FROM audit_events WHERE tenant_id = $1 AND at < $2")
            .bind(tenant)
            .bind(now - TimeDelta::days(i64::from(days)))
            .execute(pool)
            .await?
            .rows_affected();
    }
    Ok(Some(AuditMaintenance {
        created,
        dropped,
        deleted_rows,
    }))
}
