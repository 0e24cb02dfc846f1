//! The audit log: one row per decision, written in batches, read newest first. Rows
//! are made storable on the way in ([`storable_event`]); rows Postgres refuses anyway
//! can be set aside in the dead-letter table ([`insert_dead_letter`]).

mod dead_letter;
mod export;
mod partitions;
mod storable;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgPool, QueryBuilder};

use crate::ids::{AuditEventId, GrantId, ServerId, TenantId};
use crate::StoreError;

pub use dead_letter::{dead_letters, insert_dead_letter, AuditWriteFailure, DeadLetter};
pub use export::{
    audit_events_after, claim_due_export, delete_export, export_delivered, export_failed,
    export_idle, export_status, put_export, ClaimedExport, ExportFailure, ExportStart,
    ExportStatus, NewExport,
};
pub use partitions::{maintain_audit_partitions, AuditMaintenance, AuditRetention};
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

pub(crate) const COLUMNS: &str =
    "id, tenant_id, at, server_id, grant_id, request_id, method, tool, decision, \
    rule, reason, policy_version, upstream_status, latency_us, argument_keys, arguments, actor";

/// An event as stored, with its place in the log.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredAuditEvent {
    /// Where the row stands in the log: assigned when it is written, increasing in the
    /// order rows become visible, so a reader that has passed a position never finds a
    /// row behind it later. Gaps are normal.
    pub position: i64,
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub event: AuditEvent,
}

/// The transaction-level advisory lock every writer of `audit_events` holds while it
/// inserts (`mcpgaud1`). Positions come from a sequence; holding this lock from before
/// the first `nextval` until the commit makes the commit order the position order, so
/// no row commits with a position lower than one a reader has already seen, whichever
/// proxy wrote it and whatever its clock said.
const AUDIT_WRITE_LOCK: i64 = 0x6d63_7067_6175_6431;

/// Writes a batch of events in one statement, each made storable first (every NUL
/// shown as [`NUL_REPLACEMENT`]), oldest first so positions follow time within a
/// batch, under [`AUDIT_WRITE_LOCK`]. Ids are the events' own, so a retried batch does
/// not duplicate rows. One refused row fails the whole statement: see
/// [`AuditWriteFailure::of`] for telling that apart from an outage.
pub async fn insert_audit_events(pool: &PgPool, events: &[AuditEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut storable: Vec<_> = events.iter().map(storable_event).collect();
    storable.sort_by_key(|event| (event.at, event.id));
    let columns = BatchColumns::of(storable.iter().map(|event| &**event));
    let mut transaction = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_WRITE_LOCK)
        .execute(&mut *transaction)
        .await?;
    columns.insert().execute(&mut *transaction).await?;
    transaction.commit().await?;
    Ok(())
}

/// One statement for any batch size, prepared once: each column as an array,
/// unnested in order (so positions follow the batch's order). `argument_keys` goes as
/// a JSON array per row, since Postgres arrays cannot hold rows of different lengths.
const INSERT_BATCH: &str = "INSERT INTO audit_events (id, tenant_id, at, server_id, grant_id, \
    request_id, method, tool, decision, rule, reason, policy_version, upstream_status, \
    latency_us, argument_keys, arguments, actor) \
    SELECT id, tenant_id, at, server_id, grant_id, request_id, method, tool, decision, rule, \
    reason, policy_version, upstream_status, latency_us, \
    ARRAY(SELECT key FROM jsonb_array_elements_text(argument_keys) WITH ORDINALITY AS k (key, n) \
        ORDER BY n), \
    arguments, actor \
    FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::uuid[], $5::uuid[], $6::text[], \
        $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int4[], $13::int4[], \
        $14::int8[], $15::jsonb[], $16::jsonb[], $17::text[]) \
    AS batch (id, tenant_id, at, server_id, grant_id, request_id, method, tool, decision, rule, \
        reason, policy_version, upstream_status, latency_us, argument_keys, arguments, actor) \
    ON CONFLICT ON CONSTRAINT audit_events_pkey DO NOTHING";

/// A batch, column by column.
#[derive(Default)]
struct BatchColumns<'a> {
    id: Vec<uuid::Uuid>,
    tenant_id: Vec<uuid::Uuid>,
    at: Vec<DateTime<Utc>>,
    server_id: Vec<Option<uuid::Uuid>>,
    grant_id: Vec<Option<uuid::Uuid>>,
    request_id: Vec<Option<&'a str>>,
    method: Vec<&'a str>,
    tool: Vec<Option<&'a str>>,
    decision: Vec<&'a str>,
    rule: Vec<Option<&'a str>>,
    reason: Vec<Option<&'a str>>,
    policy_version: Vec<Option<i32>>,
    upstream_status: Vec<Option<i32>>,
    latency_us: Vec<Option<i64>>,
    argument_keys: Vec<Value>,
    arguments: Vec<Option<&'a Value>>,
    actor: Vec<Option<&'a str>>,
}

impl<'a> BatchColumns<'a> {
    fn of(events: impl Iterator<Item = &'a AuditEvent>) -> Self {
        let mut columns = Self::default();
        for e in events {
            columns.id.push(e.id.as_uuid());
            columns.tenant_id.push(e.tenant_id.as_uuid());
            columns.at.push(e.at);
            columns.server_id.push(e.server_id.map(|id| id.as_uuid()));
            columns.grant_id.push(e.grant_id.map(|id| id.as_uuid()));
            columns.request_id.push(e.request_id.as_deref());
            columns.method.push(&e.method);
            columns.tool.push(e.tool.as_deref());
            columns.decision.push(&e.decision);
            columns.rule.push(e.rule.as_deref());
            columns.reason.push(e.reason.as_deref());
            columns.policy_version.push(e.policy_version);
            columns.upstream_status.push(e.upstream_status);
            columns.latency_us.push(e.latency_us);
            columns
                .argument_keys
                .push(Value::from(e.argument_keys.clone()));
            columns.arguments.push(e.arguments.as_ref());
            columns.actor.push(e.actor.as_deref());
        }
        columns
    }

    fn insert(self) -> sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(INSERT_BATCH)
            .bind(self.id)
            .bind(self.tenant_id)
            .bind(self.at)
            .bind(self.server_id)
            .bind(self.grant_id)
            .bind(self.request_id)
            .bind(self.method)
            .bind(self.tool)
            .bind(self.decision)
            .bind(self.rule)
            .bind(self.reason)
            .bind(self.policy_version)
            .bind(self.upstream_status)
            .bind(self.latency_us)
            .bind(self.argument_keys)
            .bind(self.arguments)
            .bind(self.actor)
    }
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
    /// Continue below this position, exclusive: the last row of the previous page.
    pub before_position: Option<i64>,
}

/// A page of events, newest (highest position) first; `limit` rows at most.
pub async fn query_audit(
    pool: &PgPool,
    tenant: TenantId,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<StoredAuditEvent>, StoreError> {
    let mut q = QueryBuilder::new(format!(
        "SELECT position, {COLUMNS} FROM audit_events WHERE tenant_id = "
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
    if let Some(position) = filter.before_position {
        q.push(" AND position < ").push_bind(position);
    }
    q.push(" ORDER BY position DESC LIMIT ").push_bind(limit);
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
