//! Policy versions: append-only; a server's active policy is its newest version.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::ids::{ServerId, TenantId};
use crate::StoreError;

/// One stored version of a server's policy.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PolicyVersion {
    pub server_id: ServerId,
    pub version: i32,
    /// The document exactly as written.
    pub document: String,
    pub author: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "server_id, version, document, author, note, created_at";

/// Stores `document` (already validated by the caller) as the server's next
/// version, which makes it the active one. Bumps the server's revision.
pub async fn add_policy_version(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    document: &str,
    author: &str,
    note: Option<&str>,
) -> Result<PolicyVersion, StoreError> {
    let mut tx = pool.begin().await?;
    // Locking the server row serialises concurrent edits of one server's policy,
    // so two writers cannot both take version N+1.
    let locked = sqlx::query(
        "UPDATE servers SET revision = revision + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(server)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    let row: PolicyVersion = sqlx::query_as(&format!(
        "INSERT INTO policies (tenant_id, server_id, version, document, author, note) \
         SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5 FROM policies \
         WHERE tenant_id = $1 AND server_id = $2 RETURNING {COLUMNS}"
    ))
    .bind(tenant)
    .bind(server)
    .bind(document)
    .bind(author)
    .bind(note)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The server's active (newest) policy, if it has one.
pub async fn active_policy(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
) -> Result<Option<PolicyVersion>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM policies WHERE tenant_id = $1 AND server_id = $2 \
         ORDER BY version DESC LIMIT 1"
    ))
    .bind(tenant)
    .bind(server)
    .fetch_optional(pool)
    .await?)
}

/// Every version, newest first.
pub async fn policy_versions(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
) -> Result<Vec<PolicyVersion>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM policies WHERE tenant_id = $1 AND server_id = $2 ORDER BY version DESC"
    ))
    .bind(tenant)
    .bind(server)
    .fetch_all(pool)
    .await?)
}

/// One version.
pub async fn policy_version(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    version: i32,
) -> Result<PolicyVersion, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM policies WHERE tenant_id = $1 AND server_id = $2 AND version = $3"
    ))
    .bind(tenant)
    .bind(server)
    .bind(version)
    .fetch_one(pool)
    .await?)
}
