//! The admin audit trail: who changed what in a tenant's configuration, append-only
//! (the table's trigger refuses updates and deletes), read newest first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgPool, QueryBuilder};
use uuid::Uuid;

use crate::ids::{AdminAuditId, TenantId};
use crate::roles::Role;
use crate::StoreError;

/// One recorded change.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminEvent {
    pub id: AdminAuditId,
    pub at: DateTime<Utc>,
    /// `member` or `api_key`.
    pub actor_kind: String,
    /// The member's user id or the API key's id.
    pub actor_id: Uuid,
    /// `user:<email>` or `api-key:<prefix>`.
    pub actor: String,
    /// The role the actor held when making the change.
    pub actor_role: Role,
    /// The client's address (behind trusted proxies, the one they name).
    pub client_address: Option<String>,
    /// `servers`, `policies`, `grants`, `approvals`, `api_keys` or `members`.
    pub resource: String,
    pub method: String,
    /// The route as registered, e.g. `/api/v1/servers/{id}/policy`.
    pub route: String,
    /// The route's path parameters.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub target: Value,
    /// What changed, as the handler described it (absent when it adds nothing to the route).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub changes: Option<Value>,
    /// The answer's HTTP status.
    pub status: i16,
}

const COLUMNS: &str = "id, at, actor_kind, actor_id, actor, actor_role, client_address, \
     resource, method, route, target, changes, status";

/// A change to record.
#[derive(Debug, Clone)]
pub struct NewAdminEvent {
    pub actor_kind: &'static str,
    pub actor_id: Uuid,
    pub actor: String,
    pub actor_role: Role,
    pub client_address: Option<String>,
    pub resource: &'static str,
    pub method: String,
    pub route: String,
    pub target: Value,
    pub changes: Option<Value>,
    pub status: i16,
}

/// Appends one event to the tenant's trail.
pub async fn record(
    pool: &PgPool,
    tenant: TenantId,
    event: &NewAdminEvent,
) -> Result<AdminEvent, StoreError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO admin_audit_events (id, tenant_id, actor_kind, actor_id, actor, actor_role, \
             client_address, resource, method, route, target, changes, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {COLUMNS}"
    ))
    .bind(AdminAuditId::new())
    .bind(tenant)
    .bind(event.actor_kind)
    .bind(event.actor_id)
    .bind(&event.actor)
    .bind(event.actor_role)
    .bind(&event.client_address)
    .bind(event.resource)
    .bind(&event.method)
    .bind(&event.route)
    .bind(&event.target)
    .bind(&event.changes)
    .bind(event.status)
    .fetch_one(pool)
    .await?)
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct AdminQuery {
    /// Exactly this actor (`user:<email>` or `api-key:<prefix>`).
    pub actor: Option<String>,
    pub resource: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
    /// Only events older than this one (the cursor: the last event of the previous page).
    pub before: Option<(DateTime<Utc>, AdminAuditId)>,
    pub limit: i64,
}

/// The tenant's events matching `query`, newest first.
pub async fn list(
    pool: &PgPool,
    tenant: TenantId,
    query: &AdminQuery,
) -> Result<Vec<AdminEvent>, StoreError> {
    let mut sql = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM admin_audit_events WHERE tenant_id = "
    ));
    sql.push_bind(tenant);
    if let Some(actor) = &query.actor {
        sql.push(" AND actor = ").push_bind(actor);
    }
    if let Some(resource) = &query.resource {
        sql.push(" AND resource = ").push_bind(resource);
    }
    if let Some(since) = query.since {
        sql.push(" AND at >= ").push_bind(since);
    }
    if let Some(until) = query.until {
        sql.push(" AND at < ").push_bind(until);
    }
    if let Some((at, id)) = query.before {
        sql.push(" AND (at, id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    sql.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(query.limit);
    Ok(sql.build_query_as().fetch_all(pool).await?)
}
