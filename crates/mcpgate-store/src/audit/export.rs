//! A tenant's SIEM export: where its audit events go, how far they have gone, and
//! which API replica is delivering them now (a lease, so replicas share the work and
//! never deliver one tenant's batch twice at once).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::{StoredAuditEvent, COLUMNS};
use crate::ids::TenantId;
use crate::StoreError;

/// Where a new export starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStart {
    /// After the tenant's newest event: only what happens from now on.
    Now,
    /// From the oldest event still kept.
    Earliest,
}

/// An export as configured by the tenant, its secret already sealed.
#[derive(Debug, Clone)]
pub struct NewExport {
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub start: ExportStart,
}

/// How an export is doing.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportStatus {
    pub url: String,
    /// Events up to this position have been delivered (or given up on).
    pub delivered_position: i64,
    pub delivered_events: i64,
    /// Events whose batch failed every retry and was given up on.
    pub dead_letter_events: i64,
    /// Failed attempts of the batch now due (0 when the last one was delivered).
    pub failed_attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An export a replica has claimed for one delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedExport {
    pub tenant_id: TenantId,
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub delivered_position: i64,
    pub failed_attempts: i32,
}

/// A delivery that failed.
#[derive(Debug, Clone)]
pub struct ExportFailure<'a> {
    pub error: &'a str,
    /// When to try again; `None` gives the batch up (dead letter) and moves on.
    pub retry_at: Option<DateTime<Utc>>,
    pub first_position: i64,
    pub last_position: i64,
    pub events: i32,
    /// Attempts made of this batch, this one included.
    pub attempts: i32,
}

const STATUS_COLUMNS: &str = "url, delivered_position, delivered_events, dead_letter_events, \
    failed_attempts, next_attempt_at, last_error, last_delivered_at, created_at";

/// Creates the tenant's export, or replaces its URL and secret (keeping its position).
pub async fn put_export(
    pool: &PgPool,
    tenant: TenantId,
    export: &NewExport,
) -> Result<ExportStatus, StoreError> {
    let start_position = match export.start {
        ExportStart::Earliest => "0",
        ExportStart::Now => {
            "(SELECT coalesce(max(position), 0) FROM audit_events WHERE tenant_id = $1)"
        }
    };
    Ok(sqlx::query_as(&format!(
        "INSERT INTO audit_exports (tenant_id, url, secret_sealed, delivered_position) \
         VALUES ($1, $2, $3, {start_position}) \
         ON CONFLICT ON CONSTRAINT audit_exports_pkey DO UPDATE SET url = $2, \
         secret_sealed = $3, failed_attempts = 0, next_attempt_at = now(), last_error = NULL \
         RETURNING {STATUS_COLUMNS}"
    ))
    .bind(tenant)
    .bind(&export.url)
    .bind(&export.secret_sealed)
    .fetch_one(pool)
    .await?)
}

/// The tenant's export, if it has one.
pub async fn export_status(
    pool: &PgPool,
    tenant: TenantId,
) -> Result<Option<ExportStatus>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {STATUS_COLUMNS} FROM audit_exports WHERE tenant_id = $1"
    ))
    .bind(tenant)
    .fetch_optional(pool)
    .await?)
}

/// Stops and forgets the tenant's export; false when it had none.
pub async fn delete_export(pool: &PgPool, tenant: TenantId) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM audit_exports WHERE tenant_id = $1")
        .bind(tenant)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

/// Claims the export due longest ago that no replica holds, for `lease`.
pub async fn claim_due_export(
    pool: &PgPool,
    owner: Uuid,
    lease: Duration,
) -> Result<Option<ClaimedExport>, StoreError> {
    Ok(sqlx::query_as(
        "UPDATE audit_exports SET lease_owner = $1, \
         leased_until = now() + make_interval(secs => $2) \
         WHERE tenant_id = (SELECT tenant_id FROM audit_exports \
             WHERE next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now()) \
             ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING tenant_id, url, secret_sealed, delivered_position, failed_attempts",
    )
    .bind(owner)
    .bind(lease.as_secs_f64())
    .fetch_optional(pool)
    .await?)
}

/// The tenant's events after `position`, oldest first; `limit` at most.
pub async fn audit_events_after(
    pool: &PgPool,
    tenant: TenantId,
    position: i64,
    limit: i64,
) -> Result<Vec<StoredAuditEvent>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT position, {COLUMNS} FROM audit_events WHERE tenant_id = $1 AND position > $2 \
         ORDER BY position LIMIT $3"
    ))
    .bind(tenant)
    .bind(position)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Records a delivered batch ending at `last_position` and releases the claim; the
/// export is due again at once, for what may follow.
pub async fn export_delivered(
    pool: &PgPool,
    tenant: TenantId,
    owner: Uuid,
    last_position: i64,
    events: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE audit_exports SET delivered_position = $3, \
         delivered_events = delivered_events + $4, failed_attempts = 0, last_error = NULL, \
         last_delivered_at = now(), next_attempt_at = now(), lease_owner = NULL, \
         leased_until = NULL WHERE tenant_id = $1 AND lease_owner = $2",
    )
    .bind(tenant)
    .bind(owner)
    .bind(last_position)
    .bind(events)
    .execute(pool)
    .await?;
    Ok(())
}

/// Nothing to deliver: releases the claim until `next_attempt_at`.
pub async fn export_idle(
    pool: &PgPool,
    tenant: TenantId,
    owner: Uuid,
    next_attempt_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE audit_exports SET next_attempt_at = $3, lease_owner = NULL, leased_until = NULL \
         WHERE tenant_id = $1 AND lease_owner = $2",
    )
    .bind(tenant)
    .bind(owner)
    .bind(next_attempt_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed delivery and releases the claim: retried at `retry_at`, or given
/// up on (kept in `audit_export_dead_letter`, counted, and passed).
pub async fn export_failed(
    pool: &PgPool,
    tenant: TenantId,
    owner: Uuid,
    failure: &ExportFailure<'_>,
) -> Result<(), StoreError> {
    let error = super::storable_text(failure.error);
    let Some(retry_at) = failure.retry_at else {
        let mut transaction = pool.begin().await?;
        let given_up = sqlx::query(
            "UPDATE audit_exports SET delivered_position = $3, \
             dead_letter_events = dead_letter_events + $4, failed_attempts = 0, \
             last_error = $5, next_attempt_at = now(), lease_owner = NULL, leased_until = NULL \
             WHERE tenant_id = $1 AND lease_owner = $2 RETURNING 1",
        )
        .bind(tenant)
        .bind(owner)
        .bind(failure.last_position)
        .bind(i64::from(failure.events))
        .bind(error.as_ref())
        .fetch_optional(&mut *transaction)
        .await?;
        if given_up.is_some() {
            sqlx::query(
                "INSERT INTO audit_export_dead_letter \
                 (tenant_id, first_position, last_position, events, error, attempts) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT ON CONSTRAINT audit_export_dead_letter_pkey DO NOTHING",
            )
            .bind(tenant)
            .bind(failure.first_position)
            .bind(failure.last_position)
            .bind(failure.events)
            .bind(error.as_ref())
            .bind(failure.attempts)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        return Ok(());
    };
    sqlx::query(
        "UPDATE audit_exports SET failed_attempts = failed_attempts + 1, last_error = $3, \
         next_attempt_at = $4, lease_owner = NULL, leased_until = NULL \
         WHERE tenant_id = $1 AND lease_owner = $2",
    )
    .bind(tenant)
    .bind(owner)
    .bind(error.as_ref())
    .bind(retry_at)
    .execute(pool)
    .await?;
    Ok(())
}
