//! Per-grant connections: a server whose OAuth setting has the `grant` scope holds one
//! connection per grant (each agent acts as its own upstream user). What discovery and
//! registration found stays on the server's row; the grant's row holds its status and
//! its tokens. A [`Connection`] of a grant is the two joined, with `grant_id` set, so
//! refreshing, needs-reconnect and the audit go through the same code as the tenant's.

use chrono::Utc;
use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};

use super::{Connection, ConnectionRow, SealedTokens};
use crate::ids::{GrantId, ServerId, TenantId};
use crate::StoreError;

/// Whose upstream user a server's calls act as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionScope {
    /// One connection, made by an administrator, for every grant.
    #[default]
    Tenant,
    /// Each grant connects its own upstream user; no grant uses another's tokens.
    Grant,
}

impl ConnectionScope {
    /// As stored and as the API takes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnectionScope::Tenant => "tenant",
            ConnectionScope::Grant => "grant",
        }
    }

    /// `tenant` or `grant`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "tenant" => Some(ConnectionScope::Tenant),
            "grant" => Some(ConnectionScope::Grant),
            _ => None,
        }
    }
}

/// A grant's connection as a [`Connection`]: the server's row for the authorization
/// server and client, the grant's row for status, tokens and backoff.
const GRANT_COLUMNS: &str = "c.tenant_id, c.server_id, g.grant_id, c.connection_scope, \
    g.status, g.status_reason, c.resource, c.resource_metadata_url, c.scope, c.issuer, \
    c.authorization_endpoint, c.token_endpoint, c.iss_parameter_supported, \
    c.client_registration, c.client_id, c.client_secret_sealed, g.tokens_sealed, \
    g.access_issued_at, g.access_expires_at, g.generation, g.connected_at, g.connected_by, \
    g.refreshed_at, g.refresh_failures, g.refresh_failure_reason, g.refresh_failed_at, \
    g.next_refresh_attempt_at, g.updated_at";

const GRANT_FROM: &str = "upstream_oauth_grant_connections g \
    JOIN upstream_oauth_connections c \
      ON c.tenant_id = g.tenant_id AND c.server_id = g.server_id";

/// `grant`'s connection to `server`, if it connected.
pub async fn grant_connection(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    grant: GrantId,
) -> Result<Option<Connection>, StoreError> {
    let row: Option<ConnectionRow> = sqlx::query_as(&format!(
        "SELECT {GRANT_COLUMNS} FROM {GRANT_FROM} \
         WHERE g.tenant_id = $1 AND g.server_id = $2 AND g.grant_id = $3"
    ))
    .bind(tenant)
    .bind(server)
    .bind(grant)
    .fetch_optional(pool)
    .await?;
    row.map(Connection::try_from).transpose()
}

/// The grants' connections to `server`, the most recently connected first.
pub async fn grant_connections(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
) -> Result<Vec<Connection>, StoreError> {
    let rows: Vec<ConnectionRow> = sqlx::query_as(&format!(
        "SELECT {GRANT_COLUMNS} FROM {GRANT_FROM} \
         WHERE g.tenant_id = $1 AND g.server_id = $2 ORDER BY g.connected_at DESC, g.grant_id"
    ))
    .bind(tenant)
    .bind(server)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Connection::try_from).collect()
}

/// A grant's connection with the name of its server (for the errors agents read).
#[derive(Debug, Clone)]
pub struct NamedConnection {
    pub server_name: String,
    pub connection: Connection,
}

#[derive(sqlx::FromRow)]
struct NamedRow {
    server_name: String,
    #[sqlx(flatten)]
    row: ConnectionRow,
}

/// Every connection `grant` holds, to servers whose scope is still `grant` (what the
/// proxy loads with the grant).
pub async fn connections_of_grant(
    pool: &PgPool,
    tenant: TenantId,
    grant: GrantId,
) -> Result<Vec<NamedConnection>, StoreError> {
    let rows: Vec<NamedRow> = sqlx::query_as(&format!(
        "SELECT {GRANT_COLUMNS}, s.name AS server_name FROM {GRANT_FROM} \
         JOIN servers s ON s.tenant_id = g.tenant_id AND s.id = g.server_id \
         WHERE g.tenant_id = $1 AND g.grant_id = $2 AND c.connection_scope = 'grant'"
    ))
    .bind(tenant)
    .bind(grant)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|named| {
            Ok(NamedConnection {
                server_name: named.server_name,
                connection: Connection::try_from(named.row)?,
            })
        })
        .collect()
}

/// Stores the tokens of `grant`'s completed authorization (connecting again replaces
/// them). `NotFound` when the server no longer has the `grant` scope.
pub async fn store_grant_connected(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    grant: GrantId,
    tokens: &SealedTokens,
    by: &str,
) -> Result<Connection, StoreError> {
    let stored = sqlx::query(
        "INSERT INTO upstream_oauth_grant_connections (tenant_id, server_id, grant_id, status, \
           tokens_sealed, access_issued_at, access_expires_at, connected_by) \
         SELECT $1, $2, $3, 'connected', $4, $5, $6, $7 FROM upstream_oauth_connections \
           WHERE tenant_id = $1 AND server_id = $2 AND connection_scope = 'grant' \
         ON CONFLICT ON CONSTRAINT upstream_oauth_grant_connections_pkey DO UPDATE SET \
           status = 'connected', status_reason = NULL, tokens_sealed = EXCLUDED.tokens_sealed, \
           access_issued_at = EXCLUDED.access_issued_at, \
           access_expires_at = EXCLUDED.access_expires_at, \
           generation = upstream_oauth_grant_connections.generation + 1, connected_at = now(), \
           connected_by = EXCLUDED.connected_by, refreshed_at = NULL, refresh_failures = 0, \
           refresh_failure_reason = NULL, refresh_failed_at = NULL, \
           next_refresh_attempt_at = NULL, updated_at = now()",
    )
    .bind(tenant)
    .bind(server)
    .bind(grant)
    .bind(&tokens.tokens_sealed)
    .bind(tokens.issued_at)
    .bind(tokens.expires_at)
    .bind(by)
    .execute(pool)
    .await?
    .rows_affected();
    if stored == 0 {
        return Err(StoreError::NotFound);
    }
    grant_connection(pool, tenant, server, grant)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Forgets `grant`'s connection to `server`; `false` when it had none.
pub async fn delete_grant_connection(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    grant: GrantId,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query(
        "DELETE FROM upstream_oauth_grant_connections \
         WHERE tenant_id = $1 AND server_id = $2 AND grant_id = $3",
    )
    .bind(tenant)
    .bind(server)
    .bind(grant)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(deleted > 0)
}

/// The most recently connected grant connection that holds tokens: what the API's own
/// discovery of a per-grant server (its tool list) authenticates with.
pub async fn latest_connected_grant(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
) -> Result<Option<Connection>, StoreError> {
    let row: Option<ConnectionRow> = sqlx::query_as(&format!(
        "SELECT {GRANT_COLUMNS} FROM {GRANT_FROM} \
         WHERE g.tenant_id = $1 AND g.server_id = $2 AND g.status = 'connected' \
         ORDER BY g.connected_at DESC LIMIT 1"
    ))
    .bind(tenant)
    .bind(server)
    .fetch_optional(pool)
    .await?;
    row.map(Connection::try_from).transpose()
}

/// The grant's row locked for a refresh ([`super::RefreshLock`]).
pub(super) async fn lock_grant_row(
    tx: &mut Transaction<'static, Postgres>,
    tenant: TenantId,
    server: ServerId,
    grant: GrantId,
) -> Result<Option<Connection>, StoreError> {
    let row: Option<ConnectionRow> = sqlx::query_as(&format!(
        "SELECT {GRANT_COLUMNS} FROM {GRANT_FROM} \
         WHERE g.tenant_id = $1 AND g.server_id = $2 AND g.grant_id = $3 FOR UPDATE OF g"
    ))
    .bind(tenant)
    .bind(server)
    .bind(grant)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(Connection::try_from).transpose()
}

/// What a refresh's outcome writes to the grant's row (the same as to a server's).
pub(super) enum GrantUpdate<'a> {
    Refreshed(&'a SealedTokens),
    NeedsReconnect(&'a str),
    Postponed {
        reason: &'a str,
        next_attempt_at: chrono::DateTime<Utc>,
    },
}

/// Writes `update` to the grant's row; answers `(refresh_failures, refresh_failed_at)`.
pub(super) async fn update_grant_row(
    tx: &mut Transaction<'static, Postgres>,
    tenant: TenantId,
    server: ServerId,
    grant: GrantId,
    update: GrantUpdate<'_>,
) -> Result<(i32, Option<chrono::DateTime<Utc>>), StoreError> {
    const KEY: &str = "WHERE tenant_id = $1 AND server_id = $2 AND grant_id = $3 \
        RETURNING refresh_failures, refresh_failed_at";
    const CLEAR: &str = "refresh_failures = 0, refresh_failure_reason = NULL, \
        refresh_failed_at = NULL, next_refresh_attempt_at = NULL";
    let query = match &update {
        GrantUpdate::Refreshed(_) => format!(
            "UPDATE upstream_oauth_grant_connections SET tokens_sealed = $4, \
             access_issued_at = $5, access_expires_at = $6, generation = generation + 1, \
             refreshed_at = now(), {CLEAR}, updated_at = now() {KEY}"
        ),
        GrantUpdate::NeedsReconnect(_) => format!(
            "UPDATE upstream_oauth_grant_connections SET status = 'needs_reconnect', \
             status_reason = $4, {CLEAR}, updated_at = now() {KEY}"
        ),
        GrantUpdate::Postponed { .. } => format!(
            "UPDATE upstream_oauth_grant_connections SET refresh_failures = refresh_failures + 1, \
             refresh_failure_reason = $4, refresh_failed_at = now(), \
             next_refresh_attempt_at = $5, updated_at = now() {KEY}"
        ),
    };
    let query = sqlx::query_as(&query).bind(tenant).bind(server).bind(grant);
    let query = match update {
        GrantUpdate::Refreshed(tokens) => query
            .bind(tokens.tokens_sealed.clone())
            .bind(tokens.issued_at)
            .bind(tokens.expires_at),
        GrantUpdate::NeedsReconnect(reason) => query.bind(reason.to_owned()),
        GrantUpdate::Postponed {
            reason,
            next_attempt_at,
        } => query.bind(reason.to_owned()).bind(next_attempt_at),
    };
    Ok(query.fetch_one(&mut **tx).await?)
}
