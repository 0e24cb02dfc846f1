//! Registered upstream MCP servers and their discovered tools.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use crate::ids::{ServerId, TenantId};
use crate::StoreError;

/// A server as stored (the sealed credentials are fetched separately).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Server {
    pub id: ServerId,
    pub tenant_id: TenantId,
    pub name: String,
    pub url: String,
    /// `streamable_http` or `sse` (the legacy HTTP+SSE transport).
    pub transport: String,
    /// Names of the stored upstream headers; their values are never shown.
    pub header_names: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub server_info: Option<Value>,
    /// The protocol version discovery spoke: `2026-07-28` for a modern-era server
    /// (self-contained requests, no session), else the one `initialize` negotiated.
    pub protocol_version: Option<String>,
    pub instructions: Option<String>,
    pub block_changed_tools: bool,
    pub revision: i64,
    pub synced_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SERVER_COLUMNS: &str = "id, tenant_id, name, url, transport, header_names, server_info, \
    protocol_version, instructions, block_changed_tools, revision, synced_at, created_at, updated_at";

/// What discovery learnt about a server.
#[derive(Debug, Clone)]
pub struct DiscoveredServer {
    pub transport: String,
    pub server_info: Option<Value>,
    pub protocol_version: Option<String>,
    pub instructions: Option<String>,
}

/// A new server, its credentials already sealed by the caller.
#[derive(Debug, Clone)]
pub struct NewServer {
    pub id: ServerId,
    pub name: String,
    pub url: String,
    pub headers_sealed: Option<Vec<u8>>,
    pub header_names: Vec<String>,
    pub discovered: DiscoveredServer,
}

/// A tool as discovered and classified, ready to store.
#[derive(Debug, Clone)]
pub struct DiscoveredTool {
    pub name: String,
    pub definition: Value,
    pub category: String,
    pub risk: String,
    pub evidence: Value,
    pub fingerprint: String,
    /// How sure the classifier is of `category` and `risk`.
    pub confidence: Option<ToolConfidence>,
}

/// The classifier's confidence, as stored beside its verdict.
#[derive(Debug, Clone)]
pub struct ToolConfidence {
    /// `low`, `medium` or `high`.
    pub level: String,
    /// What lowered it.
    pub reasons: Vec<String>,
}

/// A stored tool.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tool {
    pub server_id: ServerId,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub definition: Value,
    /// `read`, `write`, `destructive`, `execute`, `credential` or `network`: the
    /// tenant's override when there is one, else the classifier's verdict.
    pub category: String,
    /// `low`, `medium`, `high` or `critical`, likewise.
    pub risk: String,
    /// The classifier's own category, whatever an override says.
    #[serde(skip)]
    pub classifier_category: String,
    /// The classifier's own risk.
    #[serde(skip)]
    pub classifier_risk: String,
    /// Why the classifier chose its category and risk.
    pub evidence: Value,
    /// How sure the classifier is of its verdict: `low` (review this), `medium` or
    /// `high`; absent for tools not re-synced since confidence was introduced.
    pub confidence: Option<String>,
    /// What lowered the confidence, one sentence each.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub confidence_reasons: Value,
    /// Hash of the definition as last seen.
    pub fingerprint: String,
    pub approved_fingerprint: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub changed_at: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub override_category: Option<String>,
    #[serde(skip)]
    pub override_risk: Option<String>,
    #[serde(skip)]
    pub override_reason: Option<String>,
    #[serde(skip)]
    pub override_by: Option<String>,
    #[serde(skip)]
    pub override_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub override_fingerprint: Option<String>,
    /// The override was made against another definition than the current one.
    #[serde(skip)]
    pub override_stale: bool,
    /// The override is what `category` and `risk` hold (see `override_applies!`).
    #[serde(skip)]
    pub override_applies: bool,
}

/// Whether a tool's override is in effect. While the tool's definition is the one the
/// override was made against, it is. Once the definition changes the override is stale,
/// and applies only where it is at least as strict (by risk) as the classifier's verdict
/// on the new definition: a correction that loosened a tool never silently loosens what
/// the tool has become, while one that tightened it keeps holding until someone
/// confirms it (sets it again) or removes it.
macro_rules! override_applies {
    () => {
        "coalesce(override_category IS NOT NULL AND (override_fingerprint = fingerprint \
         OR array_position(ARRAY['low','medium','high','critical'], override_risk) \
         >= array_position(ARRAY['low','medium','high','critical'], risk)), false)"
    };
}

/// Every reader of a tool's classification (the proxy, policies, the tables) reads
/// these columns, so a tenant's override wins everywhere: `category` and `risk`
/// are the override when it applies (see `override_applies!`).
pub(crate) const TOOL_COLUMNS: &str = concat!(
    "server_id, name, definition, \
    CASE WHEN ",
    override_applies!(),
    " THEN override_category ELSE category END AS category, \
    CASE WHEN ",
    override_applies!(),
    " THEN override_risk ELSE risk END AS risk, \
    category AS classifier_category, risk AS classifier_risk, evidence, confidence, \
    confidence_reasons, fingerprint, approved_fingerprint, approved_at, approved_by, first_seen, \
    changed_at, removed_at, override_category, override_risk, override_reason, override_by, \
    override_at, override_fingerprint, \
    (override_fingerprint IS NOT NULL AND override_fingerprint <> fingerprint) AS override_stale, ",
    override_applies!(),
    " AS override_applies"
);

/// What a sync changed.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncReport {
    /// Tools seen for the first time.
    pub added: Vec<String>,
    /// Tools whose definition differs from the approved one.
    pub changed: Vec<String>,
    /// Tools the upstream no longer lists.
    pub removed: Vec<String>,
    /// How many tools are unchanged.
    pub unchanged: usize,
}

/// Stores a new server and its first tools (approved as first seen) together.
pub async fn create_server(
    pool: &PgPool,
    tenant: TenantId,
    server: &NewServer,
    tools: &[DiscoveredTool],
) -> Result<Server, StoreError> {
    let mut tx = pool.begin().await?;
    let row: Server = sqlx::query_as(&format!(
        "INSERT INTO servers (id, tenant_id, name, url, transport, headers_sealed, header_names, \
         server_info, protocol_version, instructions, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now()) RETURNING {SERVER_COLUMNS}"
    ))
    .bind(server.id)
    .bind(tenant)
    .bind(server.name.trim())
    .bind(&server.url)
    .bind(&server.discovered.transport)
    .bind(&server.headers_sealed)
    .bind(&server.header_names)
    .bind(&server.discovered.server_info)
    .bind(&server.discovered.protocol_version)
    .bind(&server.discovered.instructions)
    .fetch_one(&mut *tx)
    .await?;
    apply_tools(&mut tx, tenant, server.id, tools).await?;
    tx.commit().await?;
    Ok(row)
}

/// Records a re-discovery: new tools are added (and approved as first seen),
/// changed ones keep their approved fingerprint (so the proxy can block them),
/// vanished ones are marked removed. Bumps the server's revision.
pub async fn sync_server(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    discovered: &DiscoveredServer,
    tools: &[DiscoveredTool],
) -> Result<SyncReport, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE servers SET transport = $3, server_info = $4, protocol_version = $5, instructions = $6, \
         synced_at = now(), updated_at = now(), revision = revision + 1 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(server)
    .bind(&discovered.transport)
    .bind(&discovered.server_info)
    .bind(&discovered.protocol_version)
    .bind(&discovered.instructions)
    .execute(&mut *tx)
    .await?
    .rows_affected()
    .eq(&1)
    .then_some(())
    .ok_or(StoreError::NotFound)?;
    let report = apply_tools(&mut tx, tenant, server, tools).await?;
    tx.commit().await?;
    Ok(report)
}

/// A stored tool's name, fingerprints and removal time, as a sync compares them.
type KnownTool = (String, String, Option<String>, Option<DateTime<Utc>>);

async fn apply_tools(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant: TenantId,
    server: ServerId,
    tools: &[DiscoveredTool],
) -> Result<SyncReport, StoreError> {
    let existing: Vec<KnownTool> = sqlx::query_as(
        "SELECT name, fingerprint, approved_fingerprint, removed_at FROM tools \
         WHERE tenant_id = $1 AND server_id = $2 FOR UPDATE",
    )
    .bind(tenant)
    .bind(server)
    .fetch_all(&mut **tx)
    .await?;
    let mut report = SyncReport::default();
    for tool in tools {
        let previous = existing.iter().find(|(name, ..)| name == &tool.name);
        match previous {
            None => report.added.push(tool.name.clone()),
            Some((_, _, approved, _)) if approved.as_deref() != Some(tool.fingerprint.as_str()) => {
                report.changed.push(tool.name.clone());
            }
            Some(_) => report.unchanged += 1,
        }
        // changed_at moves only when the definition itself moves. A tenant's override
        // is left alone: it is stale once the fingerprint differs from its own.
        sqlx::query(
            "INSERT INTO tools (tenant_id, server_id, name, definition, category, risk, evidence, \
             fingerprint, approved_fingerprint, approved_at, approved_by, confidence, confidence_reasons) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, now(), 'first seen', $9, $10) \
             ON CONFLICT ON CONSTRAINT tools_pkey DO UPDATE SET \
               definition = EXCLUDED.definition, category = EXCLUDED.category, risk = EXCLUDED.risk, \
               evidence = EXCLUDED.evidence, fingerprint = EXCLUDED.fingerprint, removed_at = NULL, \
               confidence = EXCLUDED.confidence, confidence_reasons = EXCLUDED.confidence_reasons, \
               changed_at = CASE WHEN tools.fingerprint <> EXCLUDED.fingerprint THEN now() ELSE tools.changed_at END",
        )
        .bind(tenant)
        .bind(server)
        .bind(&tool.name)
        .bind(&tool.definition)
        .bind(&tool.category)
        .bind(&tool.risk)
        .bind(&tool.evidence)
        .bind(&tool.fingerprint)
        .bind(tool.confidence.as_ref().map(|c| c.level.as_str()))
        .bind(serde_json::json!(tool
            .confidence
            .as_ref()
            .map_or(&[][..], |c| c.reasons.as_slice())))
        .execute(&mut **tx)
        .await?;
    }
    for (name, _, _, removed_at) in &existing {
        if removed_at.is_none() && !tools.iter().any(|t| &t.name == name) {
            report.removed.push(name.clone());
            sqlx::query(
                "UPDATE tools SET removed_at = now() WHERE tenant_id = $1 AND server_id = $2 AND name = $3",
            )
            .bind(tenant)
            .bind(server)
            .bind(name)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(report)
}

/// The tenant's servers, oldest first.
pub async fn list_servers(pool: &PgPool, tenant: TenantId) -> Result<Vec<Server>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SERVER_COLUMNS} FROM servers WHERE tenant_id = $1 ORDER BY created_at, id"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?)
}

/// Every tenant's servers, as `(tenant, server)`: the one cross-tenant read, for
/// the API's periodic catalogue re-sync, which then works tenant by tenant.
pub async fn every_server(pool: &PgPool) -> Result<Vec<(TenantId, ServerId)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT tenant_id, id FROM servers ORDER BY tenant_id, id")
            .fetch_all(pool)
            .await?,
    )
}

/// One of the tenant's servers.
pub async fn server(pool: &PgPool, tenant: TenantId, id: ServerId) -> Result<Server, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SERVER_COLUMNS} FROM servers WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// The server's sealed upstream credentials, if any.
pub async fn server_headers_sealed(
    pool: &PgPool,
    tenant: TenantId,
    id: ServerId,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row: (Option<Vec<u8>>,) =
        sqlx::query_as("SELECT headers_sealed FROM servers WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_one(pool)
            .await?;
    Ok(row.0)
}

/// A change to a server's settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ServerUpdate {
    pub name: Option<String>,
    pub url: Option<String>,
    /// `Some(None)` removes the credentials.
    pub headers: Option<(Option<Vec<u8>>, Vec<String>)>,
    pub block_changed_tools: Option<bool>,
}

/// Applies `update` and bumps the revision.
pub async fn update_server(
    pool: &PgPool,
    tenant: TenantId,
    id: ServerId,
    update: &ServerUpdate,
) -> Result<Server, StoreError> {
    let (set_headers, sealed, names) = match &update.headers {
        Some((sealed, names)) => (true, sealed.clone(), names.clone()),
        None => (false, None, Vec::new()),
    };
    Ok(sqlx::query_as(&format!(
        "UPDATE servers SET name = coalesce($3, name), url = coalesce($4, url), \
         headers_sealed = CASE WHEN $5 THEN $6 ELSE headers_sealed END, \
         header_names = CASE WHEN $5 THEN $7 ELSE header_names END, \
         block_changed_tools = coalesce($8, block_changed_tools), \
         revision = revision + 1, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 RETURNING {SERVER_COLUMNS}"
    ))
    .bind(tenant)
    .bind(id)
    .bind(update.name.as_deref().map(str::trim))
    .bind(&update.url)
    .bind(set_headers)
    .bind(sealed)
    .bind(names)
    .bind(update.block_changed_tools)
    .fetch_one(pool)
    .await?)
}

/// Deletes a server with its tools and policies.
pub async fn delete_server(
    pool: &PgPool,
    tenant: TenantId,
    id: ServerId,
) -> Result<(), StoreError> {
    let deleted = sqlx::query("DELETE FROM servers WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The server's current tools (removed ones last, flagged), by name.
pub async fn list_tools(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
) -> Result<Vec<Tool>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TOOL_COLUMNS} FROM tools WHERE tenant_id = $1 AND server_id = $2 \
         ORDER BY removed_at IS NOT NULL, name"
    ))
    .bind(tenant)
    .bind(server)
    .fetch_all(pool)
    .await?)
}

/// Accepts a tool's current definition; bumps the server's revision.
pub async fn approve_tool(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    name: &str,
    by: &str,
) -> Result<Tool, StoreError> {
    let mut tx = pool.begin().await?;
    let tool: Tool = sqlx::query_as(&format!(
        "UPDATE tools SET approved_fingerprint = fingerprint, approved_at = now(), approved_by = $4 \
         WHERE tenant_id = $1 AND server_id = $2 AND name = $3 RETURNING {TOOL_COLUMNS}"
    ))
    .bind(tenant)
    .bind(server)
    .bind(name)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE servers SET revision = revision + 1 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(server)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(tool)
}
