//! Calls held for a person's decision.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use crate::audit::{storable_json, storable_text};
use crate::ids::{ApprovalId, GrantId, ServerId, TenantId};
use crate::StoreError;

/// A held call.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub id: ApprovalId,
    pub tenant_id: TenantId,
    pub server_id: ServerId,
    pub grant_id: Option<GrantId>,
    pub tool: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub arguments: Value,
    pub rule: Option<String>,
    pub reason: Option<String>,
    /// `pending`, `approved`, `denied` or `expired`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, tenant_id, server_id, grant_id, tool, arguments, rule, reason, status, \
    decided_by, decision_reason, created_at, expires_at, decided_at";

/// A call to hold.
#[derive(Debug, Clone)]
pub struct NewApproval {
    pub id: ApprovalId,
    pub server_id: ServerId,
    pub grant_id: Option<GrantId>,
    pub tool: String,
    pub arguments: Value,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Stores a pending approval.
pub async fn create_approval(
    pool: &PgPool,
    tenant: TenantId,
    approval: &NewApproval,
) -> Result<Approval, StoreError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO approvals (id, tenant_id, server_id, grant_id, tool, arguments, rule, reason, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    ))
    .bind(approval.id)
    .bind(tenant)
    .bind(approval.server_id)
    .bind(approval.grant_id)
    // Client text: NUL (which text and jsonb refuse) is stored as the audit log stores it.
    .bind(storable_text(&approval.tool))
    .bind(storable_json(&approval.arguments).into_owned())
    .bind(approval.rule.as_deref().map(storable_text))
    .bind(approval.reason.as_deref().map(storable_text))
    .bind(approval.expires_at)
    .fetch_one(pool)
    .await?)
}

/// The tenant's approvals, newest first, optionally of one status.
pub async fn list_approvals(
    pool: &PgPool,
    tenant: TenantId,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Approval>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM approvals WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) \
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(tenant)
    .bind(status)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// One approval.
pub async fn approval(
    pool: &PgPool,
    tenant: TenantId,
    id: ApprovalId,
) -> Result<Approval, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM approvals WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// Decides a pending approval: `status` is `approved`, `denied` or `expired`.
/// Only a pending, unexpired approval can be approved or denied; otherwise
/// `Conflict { constraint: "approval_not_pending" }` (after `NotFound` checks).
pub async fn decide_approval(
    pool: &PgPool,
    tenant: TenantId,
    id: ApprovalId,
    status: &str,
    by: &str,
    reason: Option<&str>,
) -> Result<Approval, StoreError> {
    let row: Option<Approval> = sqlx::query_as(&format!(
        "UPDATE approvals SET status = $3, decided_by = $4, decision_reason = $5, decided_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending' \
         AND ($3 = 'expired' OR expires_at > now()) RETURNING {COLUMNS}"
    ))
    .bind(tenant)
    .bind(id)
    .bind(status)
    .bind(by)
    .bind(reason)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(row),
        None => {
            approval(pool, tenant, id).await?;
            Err(StoreError::Conflict {
                constraint: "approval_not_pending".into(),
            })
        }
    }
}
