//! Grants: agents' credentials, scoped to servers, optionally with a policy of
//! their own, expiring, revocable and rotatable.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::ids::{GrantId, TenantId};
use crate::StoreError;

/// A grant as stored (the token itself is never stored).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub id: GrantId,
    pub tenant_id: TenantId,
    pub name: String,
    /// `None`: every server of the tenant.
    pub server_ids: Option<Vec<Uuid>>,
    /// The grant's own policy document, as written.
    pub policy: Option<String>,
    pub token_version: i32,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, tenant_id, name, server_ids, policy, token_version, expires_at, \
    revoked_at, last_used_at, created_at, updated_at";

/// A new grant.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub id: GrantId,
    pub name: String,
    pub server_ids: Option<Vec<Uuid>>,
    pub policy: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a new grant (in a transaction of the caller's too: an OAuth connection).
pub async fn create_grant(
    pool: impl sqlx::PgExecutor<'_>,
    tenant: TenantId,
    grant: &NewGrant,
) -> Result<Grant, StoreError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO grants (id, tenant_id, name, server_ids, policy, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(grant.id)
    .bind(tenant)
    .bind(grant.name.trim())
    .bind(&grant.server_ids)
    .bind(&grant.policy)
    .bind(grant.expires_at)
    .fetch_one(pool)
    .await?)
}

/// The tenant's grants, newest first.
pub async fn list_grants(pool: &PgPool, tenant: TenantId) -> Result<Vec<Grant>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM grants WHERE tenant_id = $1 ORDER BY id DESC"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?)
}

/// One grant.
pub async fn grant(pool: &PgPool, tenant: TenantId, id: GrantId) -> Result<Grant, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM grants WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// A change to a grant; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct GrantUpdate {
    pub name: Option<String>,
    pub server_ids: Option<Option<Vec<Uuid>>>,
    pub policy: Option<Option<String>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// Issue a new token version, ending every older token.
    pub rotate: bool,
}

/// Applies `update` to a live grant; a revoked grant cannot be changed (`Conflict`).
pub async fn update_grant(
    pool: &PgPool,
    tenant: TenantId,
    id: GrantId,
    update: &GrantUpdate,
) -> Result<Grant, StoreError> {
    let row: Option<Grant> = sqlx::query_as(&format!(
        "UPDATE grants SET name = coalesce($3, name), \
         server_ids = CASE WHEN $4 THEN $5 ELSE server_ids END, \
         policy = CASE WHEN $6 THEN $7 ELSE policy END, \
         expires_at = CASE WHEN $8 THEN $9 ELSE expires_at END, \
         token_version = token_version + CASE WHEN $10 THEN 1 ELSE 0 END, \
         updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING {COLUMNS}"
    ))
    .bind(tenant)
    .bind(id)
    .bind(update.name.as_deref().map(str::trim))
    .bind(update.server_ids.is_some())
    .bind(update.server_ids.clone().flatten())
    .bind(update.policy.is_some())
    .bind(update.policy.clone().flatten())
    .bind(update.expires_at.is_some())
    .bind(update.expires_at.flatten())
    .bind(update.rotate)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(row),
        None => {
            // Tell "revoked" from "not yours / not there".
            grant(pool, tenant, id).await?;
            Err(StoreError::Conflict {
                constraint: "grant_revoked".into(),
            })
        }
    }
}

/// Revokes a grant (idempotent: a second revoke keeps the first time).
pub async fn revoke_grant(
    pool: &PgPool,
    tenant: TenantId,
    id: GrantId,
) -> Result<Grant, StoreError> {
    // The grant's own upstream OAuth connections go with it, in the same statement.
    Ok(sqlx::query_as(&format!(
        "WITH forgotten AS (DELETE FROM upstream_oauth_grant_connections \
           WHERE tenant_id = $1 AND grant_id = $2) \
         UPDATE grants SET revoked_at = coalesce(revoked_at, now()), updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// Records that grants were used, in one statement for a batch of them.
pub async fn touch_grants(
    pool: &PgPool,
    uses: &[(GrantId, DateTime<Utc>)],
) -> Result<(), StoreError> {
    if uses.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = uses.iter().map(|(id, _)| id.as_uuid()).collect();
    let times: Vec<DateTime<Utc>> = uses.iter().map(|(_, at)| *at).collect();
    sqlx::query(
        "UPDATE grants SET last_used_at = greatest(coalesce(last_used_at, u.at), u.at) \
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) WHERE grants.id = u.id",
    )
    .bind(ids)
    .bind(times)
    .execute(pool)
    .await?;
    Ok(())
}
