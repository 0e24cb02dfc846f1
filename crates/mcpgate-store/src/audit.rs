//! The audit log: one row per decision, written in batches, read newest first. Rows
//! are made storable on the way in ([`storable_event`]); rows Postgres refuses anyway
//! can be set aside in the dead-letter table ([`insert_dead_letter`]).

mod dead_letter;
mod storable;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgPool, QueryBuilder};

use crate::ids::{AuditEventId, GrantId, ServerId, TenantId};
use crate::StoreError;

pub use dead_letter::{dead_letters, insert_dead_letter, AuditWriteFailure, DeadLetter};
pub use storable::{storable_event, storable_json, storable_text, NUL_REPLACEMENT};

/// One audited decision.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub tenant_id: TenantId,
    pub at: DateTime<Utc>,
    pub server_id: Option<ServerId>,
    pub grant_id: Option<GrantId>,
    pub request_id: Option<String>,
    pub method: String,
    pub tool: Option<String>,
    /// `allow`, `deny`, `limited`, `shadow`, `approval_required` or `error`.
    pub decision: String,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub policy_version: Option<i32>,
    pub upstream_status: Option<i32>,
    pub latency_us: Option<i64>,
    /// The call's top-level argument names; values are kept only when redacted.
    pub argument_keys: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub arguments: Option<Value>,
    pub actor: Option<String>,
}

const COLUMNS: &str =
    "id, tenant_id, at, server_id, grant_id, request_id, method, tool, decision, \
    rule, reason, policy_version, upstream_status, latency_us, argument_keys, arguments, actor";

/// Writes a batch of events in one statement, each made storable first (every NUL
/// shown as [`NUL_REPLACEMENT`]). Ids are the events' own, so a retried batch does not
/// duplicate rows. One refused row fails the whole statement: see
/// [`AuditWriteFailure::of`] for telling that apart from an outage.
pub async fn insert_audit_events(pool: &PgPool, events: &[AuditEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let storable: Vec<_> = events.iter().map(storable_event).collect();
    let mut builder = QueryBuilder::new(format!("INSERT INTO audit_events ({COLUMNS}) "));
    builder.push_values(storable.iter().map(|event| &**event), |mut row, e| {
        row.push_bind(e.id)
            .push_bind(e.tenant_id)
            .push_bind(e.at)
            .push_bind(e.server_id)
            .push_bind(e.grant_id)
            .push_bind(&e.request_id)
            .push_bind(&e.method)
            .push_bind(&e.tool)
            .push_bind(&e.decision)
            .push_bind(&e.rule)
            .push_bind(&e.reason)
            .push_bind(e.policy_version)
            .push_bind(e.upstream_status)
            .push_bind(e.latency_us)
            .push_bind(&e.argument_keys)
            .push_bind(&e.arguments)
            .push_bind(&e.actor);
    });
    builder.push(" ON CONFLICT ON CONSTRAINT audit_events_pkey DO NOTHING");
    builder.build().execute(pool).await?;
    Ok(())
}

/// Filters for reading the log; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub server: Option<ServerId>,
    pub grant: Option<GrantId>,
    pub tool: Option<String>,
    pub decision: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Continue after this (at, id), exclusive: the last row of the previous page.
    pub after: Option<(DateTime<Utc>, AuditEventId)>,
}

/// A page of events, newest first; `limit` rows at most.
pub async fn query_audit(
    pool: &PgPool,
    tenant: TenantId,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM audit_events WHERE tenant_id = "
    ));
    q.push_bind(tenant);
    if let Some(server) = filter.server {
        q.push(" AND server_id = ").push_bind(server);
    }
    if let Some(grant) = filter.grant {
        q.push(" AND grant_id = ").push_bind(grant);
    }
    if let Some(tool) = &filter.tool {
        q.push(" AND tool = ").push_bind(tool.clone());
    }
    if let Some(decision) = &filter.decision {
        q.push(" AND decision = ").push_bind(decision.clone());
    }
    if let Some(since) = filter.since {
        q.push(" AND at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        q.push(" AND at < ").push_bind(until);
    }
    if let Some((at, id)) = filter.after {
        q.push(" AND (at, id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(limit);
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// Counts of calls and blocks per time bucket, for the dashboard's chart.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditBucket {
    pub bucket: DateTime<Utc>,
    pub calls: i64,
    pub blocked: i64,
}

/// Calls and blocks per hour over the last `hours` hours.
pub async fn audit_histogram(
    pool: &PgPool,
    tenant: TenantId,
    hours: i32,
) -> Result<Vec<AuditBucket>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT date_trunc('hour', at) AS bucket, count(*) AS calls, \
         count(*) FILTER (WHERE decision IN ('deny', 'limited', 'approval_denied', 'approval_expired')) AS blocked \
         FROM audit_events WHERE tenant_id = $1 AND at > now() - make_interval(hours => $2) \
         GROUP BY 1 ORDER BY 1",
    )
    .bind(tenant)
    .bind(hours)
    .fetch_all(pool)
    .await?)
}
