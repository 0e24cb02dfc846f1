//! A tenant's corrections to the classifier's verdict on a tool, and the
//! append-only history of every correction set or removed.
//!
//! The override is stored beside the verdict on the `tools` row; every reader of
//! tools (`servers::list_tools`, and so the proxy) gets the override as the tool's
//! category and risk while it applies, the verdict otherwise (a stale override that
//! would loosen a changed tool does not apply). Syncs rewrite only the verdict.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::ids::{ServerId, TenantId};
use crate::servers::{Tool, TOOL_COLUMNS};
use crate::StoreError;

/// A tenant's correction of one tool's classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassificationOverride {
    /// `read`, `write`, `destructive`, `execute`, `credential` or `network`.
    pub category: String,
    /// `low`, `medium`, `high` or `critical`.
    pub risk: String,
    /// Why the tenant corrected the classifier.
    pub reason: String,
    /// Who set it.
    pub by: String,
    /// When it was set.
    pub at: DateTime<Utc>,
    /// The tool's fingerprint when it was set.
    pub fingerprint: String,
    /// The tool's definition changed since: a person should confirm it (set it
    /// again) or remove it, and the tool is marked for review until then.
    pub stale: bool,
    /// Whether the override is the tool's classification now: always while it is not
    /// stale; once stale, only where it is at least as strict (by risk) as the
    /// classifier's verdict on the new definition, which applies otherwise.
    pub applies: bool,
}

impl Tool {
    /// The tenant's override, when there is one.
    pub fn classification_override(&self) -> Option<ClassificationOverride> {
        Some(ClassificationOverride {
            category: self.override_category.clone()?,
            risk: self.override_risk.clone()?,
            reason: self.override_reason.clone()?,
            by: self.override_by.clone()?,
            at: self.override_at?,
            fingerprint: self.override_fingerprint.clone()?,
            stale: self.override_stale,
            applies: self.override_applies,
        })
    }
}

/// A classification to set on a tool; the database checks the vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct NewOverride<'a> {
    pub category: &'a str,
    pub risk: &'a str,
    pub reason: &'a str,
}

/// One row of a tool's classification history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassificationChange {
    pub id: Uuid,
    pub server_id: ServerId,
    pub tool_name: String,
    pub at: DateTime<Utc>,
    /// Who made the change.
    pub actor: String,
    /// `set` or `removed`.
    pub action: String,
    /// The classification in force before the change.
    pub from_category: String,
    pub from_risk: String,
    /// Whether that was an override (else the classifier's verdict).
    pub from_override: bool,
    /// The classification in force after it.
    pub to_category: String,
    pub to_risk: String,
    pub to_override: bool,
    /// The reason given with an override that was set.
    pub reason: Option<String>,
    /// The tool's fingerprint at the time.
    pub fingerprint: String,
}

/// One of the tenant's tools, removed or not.
pub async fn tool(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    name: &str,
) -> Result<Tool, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TOOL_COLUMNS} FROM tools WHERE tenant_id = $1 AND server_id = $2 AND name = $3"
    ))
    .bind(tenant)
    .bind(server)
    .bind(name)
    .fetch_one(pool)
    .await?)
}

/// Sets (or confirms, against the current definition) a tool's override, records
/// it in the history and bumps the server's revision so proxies reload it.
pub async fn set_override(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    name: &str,
    new: NewOverride<'_>,
    by: &str,
) -> Result<Tool, StoreError> {
    let mut tx = pool.begin().await?;
    let before = locked_tool(&mut tx, tenant, server, name).await?;
    let after: Tool = sqlx::query_as(&format!(
        "UPDATE tools SET override_category = $4, override_risk = $5, override_reason = $6, \
         override_by = $7, override_at = now(), override_fingerprint = fingerprint \
         WHERE tenant_id = $1 AND server_id = $2 AND name = $3 RETURNING {TOOL_COLUMNS}"
    ))
    .bind(tenant)
    .bind(server)
    .bind(name)
    .bind(new.category)
    .bind(new.risk)
    .bind(new.reason.trim())
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    record(&mut tx, tenant, "set", &before, &after, by).await?;
    bump_revision(&mut tx, tenant, server).await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes a tool's override (`NotFound` when it has none), so the classifier's
/// verdict applies again; recorded and announced like [`set_override`].
pub async fn remove_override(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    name: &str,
    by: &str,
) -> Result<Tool, StoreError> {
    let mut tx = pool.begin().await?;
    let before = locked_tool(&mut tx, tenant, server, name).await?;
    if before.override_category.is_none() {
        return Err(StoreError::NotFound);
    }
    let after: Tool = sqlx::query_as(&format!(
        "UPDATE tools SET override_category = NULL, override_risk = NULL, override_reason = NULL, \
         override_by = NULL, override_at = NULL, override_fingerprint = NULL \
         WHERE tenant_id = $1 AND server_id = $2 AND name = $3 RETURNING {TOOL_COLUMNS}"
    ))
    .bind(tenant)
    .bind(server)
    .bind(name)
    .fetch_one(&mut *tx)
    .await?;
    record(&mut tx, tenant, "removed", &before, &after, by).await?;
    bump_revision(&mut tx, tenant, server).await?;
    tx.commit().await?;
    Ok(after)
}

/// A tool's classification changes, newest first.
pub async fn history(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    name: &str,
) -> Result<Vec<ClassificationChange>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, server_id, tool_name, at, actor, action, from_category, from_risk, \
         from_override, to_category, to_risk, to_override, reason, fingerprint \
         FROM tool_classification_changes \
         WHERE tenant_id = $1 AND server_id = $2 AND tool_name = $3 ORDER BY at DESC, id DESC",
    )
    .bind(tenant)
    .bind(server)
    .bind(name)
    .fetch_all(pool)
    .await?)
}

async fn locked_tool(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant: TenantId,
    server: ServerId,
    name: &str,
) -> Result<Tool, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TOOL_COLUMNS} FROM tools \
         WHERE tenant_id = $1 AND server_id = $2 AND name = $3 FOR UPDATE"
    ))
    .bind(tenant)
    .bind(server)
    .bind(name)
    .fetch_one(&mut **tx)
    .await?)
}

async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant: TenantId,
    action: &str,
    before: &Tool,
    after: &Tool,
    by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tool_classification_changes (id, tenant_id, server_id, tool_name, actor, \
         action, from_category, from_risk, from_override, to_category, to_risk, to_override, \
         reason, fingerprint) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(after.server_id)
    .bind(&after.name)
    .bind(by)
    .bind(action)
    .bind(&before.category)
    .bind(&before.risk)
    .bind(before.override_category.is_some())
    .bind(&after.category)
    .bind(&after.risk)
    .bind(after.override_category.is_some())
    .bind(&after.override_reason)
    .bind(&after.fingerprint)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn bump_revision(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant: TenantId,
    server: ServerId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE servers SET revision = revision + 1 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(server)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
