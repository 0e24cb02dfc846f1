//! Upstream OAuth connections (mcpgate as the OAuth client of a tenant's server) and
//! the authorization requests in flight. Tokens and secrets arrive sealed; nothing
//! here can read them.
//!
//! Refreshing is serialised across every replica by the connection's row lock
//! ([`RefreshLock`]): the first to take it refreshes, the others find a newer
//! `generation` once they get it, and refresh nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};

use crate::ids::{GrantId, ServerId, TenantId};
use crate::StoreError;

mod per_grant;

pub use per_grant::{
    connections_of_grant, delete_grant_connection, grant_connection, grant_connections,
    latest_connected_grant, store_grant_connected, ConnectionScope, NamedConnection,
};

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Nobody connected the server yet.
    NeedsConnect,
    /// Tokens are held.
    Connected,
    /// The authorization server refused a refresh: a person must connect again.
    NeedsReconnect,
}

impl ConnectionStatus {
    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::NeedsConnect => "needs_connect",
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::NeedsReconnect => "needs_reconnect",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "needs_connect" => Ok(ConnectionStatus::NeedsConnect),
            "connected" => Ok(ConnectionStatus::Connected),
            "needs_reconnect" => Ok(ConnectionStatus::NeedsReconnect),
            other => Err(StoreError::Corrupt(format!(
                "unknown upstream OAuth status {other:?}"
            ))),
        }
    }
}

/// How mcpgate identified itself to the authorization server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientRegistration {
    /// A Client ID Metadata Document served by mcpgate.
    MetadataDocument,
    /// Dynamic Client Registration (RFC 7591).
    Dynamic,
    /// A client id (and secret) the tenant entered.
    Entered,
}

impl ClientRegistration {
    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClientRegistration::MetadataDocument => "metadata_document",
            ClientRegistration::Dynamic => "dynamic",
            ClientRegistration::Entered => "entered",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "metadata_document" => Ok(ClientRegistration::MetadataDocument),
            "dynamic" => Ok(ClientRegistration::Dynamic),
            "entered" => Ok(ClientRegistration::Entered),
            other => Err(StoreError::Corrupt(format!(
                "unknown client registration {other:?}"
            ))),
        }
    }
}

/// A server's OAuth connection as stored.
#[derive(Debug, Clone)]
pub struct Connection {
    pub tenant_id: TenantId,
    pub server_id: ServerId,
    /// `None`: the server's connection for the tenant; `Some`: that grant's own, to a
    /// server of the `grant` scope.
    pub grant_id: Option<GrantId>,
    /// The server's OAuth setting: whose upstream user its calls act as.
    pub connection_scope: ConnectionScope,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    pub resource: String,
    pub resource_metadata_url: Option<String>,
    pub scope: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub iss_parameter_supported: bool,
    pub client_registration: Option<ClientRegistration>,
    pub client_id: Option<String>,
    pub client_secret_sealed: Option<Vec<u8>>,
    pub tokens_sealed: Option<Vec<u8>>,
    pub access_issued_at: Option<DateTime<Utc>>,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub generation: i64,
    pub connected_at: Option<DateTime<Utc>>,
    pub connected_by: Option<String>,
    pub refreshed_at: Option<DateTime<Utc>>,
    /// The last refresh failed without a refusal (authorization server unreachable):
    /// still connected, backing off.
    pub refresh_failure: Option<RefreshFailure>,
    pub updated_at: DateTime<Utc>,
}

/// A refresh that failed for now (transport, 5xx), and when the next one may be tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFailure {
    /// Why, for the tenant (never a token).
    pub reason: String,
    /// Failed attempts in a row.
    pub attempts: i32,
    pub failed_at: DateTime<Utc>,
    /// No replica tries again before this.
    pub next_attempt_at: DateTime<Utc>,
}

impl RefreshFailure {
    /// Said to the tenant: the connection holds, renewing its token does not for now.
    pub fn describe(&self) -> String {
        format!(
            "the authorization server could not renew the access token ({}); {} failed \
             attempts, the next not before {}",
            self.reason,
            self.attempts,
            self.next_attempt_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }
}

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    tenant_id: TenantId,
    server_id: ServerId,
    grant_id: Option<GrantId>,
    connection_scope: String,
    status: String,
    status_reason: Option<String>,
    resource: String,
    resource_metadata_url: Option<String>,
    scope: Option<String>,
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    iss_parameter_supported: bool,
    client_registration: Option<String>,
    client_id: Option<String>,
    client_secret_sealed: Option<Vec<u8>>,
    tokens_sealed: Option<Vec<u8>>,
    access_issued_at: Option<DateTime<Utc>>,
    access_expires_at: Option<DateTime<Utc>>,
    generation: i64,
    connected_at: Option<DateTime<Utc>>,
    connected_by: Option<String>,
    refreshed_at: Option<DateTime<Utc>>,
    refresh_failures: i32,
    refresh_failure_reason: Option<String>,
    refresh_failed_at: Option<DateTime<Utc>>,
    next_refresh_attempt_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(row: ConnectionRow) -> Result<Self, StoreError> {
        Ok(Connection {
            tenant_id: row.tenant_id,
            server_id: row.server_id,
            grant_id: row.grant_id,
            connection_scope: ConnectionScope::parse(&row.connection_scope).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "unknown upstream OAuth connection scope {:?}",
                    row.connection_scope
                ))
            })?,
            status: ConnectionStatus::parse(&row.status)?,
            status_reason: row.status_reason,
            resource: row.resource,
            resource_metadata_url: row.resource_metadata_url,
            scope: row.scope,
            issuer: row.issuer,
            authorization_endpoint: row.authorization_endpoint,
            token_endpoint: row.token_endpoint,
            iss_parameter_supported: row.iss_parameter_supported,
            client_registration: row
                .client_registration
                .as_deref()
                .map(ClientRegistration::parse)
                .transpose()?,
            client_id: row.client_id,
            client_secret_sealed: row.client_secret_sealed,
            tokens_sealed: row.tokens_sealed,
            access_issued_at: row.access_issued_at,
            access_expires_at: row.access_expires_at,
            generation: row.generation,
            connected_at: row.connected_at,
            connected_by: row.connected_by,
            refreshed_at: row.refreshed_at,
            refresh_failure: match (row.refresh_failed_at, row.next_refresh_attempt_at) {
                (Some(failed_at), Some(next_attempt_at)) if row.refresh_failures > 0 => {
                    Some(RefreshFailure {
                        reason: row.refresh_failure_reason.unwrap_or_default(),
                        attempts: row.refresh_failures,
                        failed_at,
                        next_attempt_at,
                    })
                }
                _ => None,
            },
            updated_at: row.updated_at,
        })
    }
}

const COLUMNS: &str = "tenant_id, server_id, NULL::uuid AS grant_id, connection_scope, status, status_reason, resource, \
    resource_metadata_url, scope, issuer, authorization_endpoint, token_endpoint, \
    iss_parameter_supported, client_registration, client_id, client_secret_sealed, tokens_sealed, \
    access_issued_at, access_expires_at, generation, connected_at, connected_by, refreshed_at, \
    refresh_failures, refresh_failure_reason, refresh_failed_at, next_refresh_attempt_at, \
    updated_at";

/// Sets the backoff columns back: the last refresh worked (or there is nothing to refresh).
const CLEAR_FAILURE: &str = "refresh_failures = 0, refresh_failure_reason = NULL, \
    refresh_failed_at = NULL, next_refresh_attempt_at = NULL,";

/// What the challenge and the tenant said about a server that needs OAuth.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub resource: String,
    pub resource_metadata_url: Option<String>,
    pub scope: Option<String>,
    /// A client the tenant registered with the authorization server itself.
    pub client_id: Option<String>,
    pub client_secret_sealed: Option<Vec<u8>>,
    /// Whose upstream user calls act as: the tenant's one connection, or each grant's.
    pub connection_scope: ConnectionScope,
}

/// Records that `server` authenticates with OAuth and needs connecting. A server has
/// one connection: saying it again replaces what the tenant entered and forgets tokens,
/// its grants' included.
pub async fn create_connection(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    new: &NewConnection,
) -> Result<Connection, StoreError> {
    let mut tx = pool.begin().await?;
    let row: ConnectionRow = sqlx::query_as(&format!(
        "INSERT INTO upstream_oauth_connections (tenant_id, server_id, status, resource, \
         resource_metadata_url, scope, client_id, client_secret_sealed, client_registration, \
         connection_scope) \
         VALUES ($1, $2, 'needs_connect', $3, $4, $5, $6, $7, CASE WHEN $6::text IS NULL THEN NULL ELSE 'entered' END, $8) \
         ON CONFLICT ON CONSTRAINT upstream_oauth_connections_pkey DO UPDATE SET \
           status = 'needs_connect', status_reason = NULL, resource = EXCLUDED.resource, \
           resource_metadata_url = EXCLUDED.resource_metadata_url, scope = EXCLUDED.scope, \
           client_id = EXCLUDED.client_id, client_secret_sealed = EXCLUDED.client_secret_sealed, \
           client_registration = EXCLUDED.client_registration, tokens_sealed = NULL, \
           access_issued_at = NULL, access_expires_at = NULL, refresh_failures = 0, \
           refresh_failure_reason = NULL, refresh_failed_at = NULL, next_refresh_attempt_at = NULL, \
           connection_scope = EXCLUDED.connection_scope, \
           generation = upstream_oauth_connections.generation + 1, updated_at = now() \
         RETURNING {COLUMNS}"
    ))
    .bind(tenant)
    .bind(server)
    .bind(&new.resource)
    .bind(&new.resource_metadata_url)
    .bind(&new.scope)
    .bind(&new.client_id)
    .bind(&new.client_secret_sealed)
    .bind(new.connection_scope.as_str())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM upstream_oauth_grant_connections WHERE tenant_id = $1 AND server_id = $2",
    )
    .bind(tenant)
    .bind(server)
    .execute(&mut *tx)
    .await?;
    bump_server(&mut tx, tenant, server).await?;
    tx.commit().await?;
    row.try_into()
}

/// The server's connection, if it authenticates with OAuth.
pub async fn connection(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
) -> Result<Option<Connection>, StoreError> {
    let row: Option<ConnectionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM upstream_oauth_connections WHERE tenant_id = $1 AND server_id = $2"
    ))
    .bind(tenant)
    .bind(server)
    .fetch_optional(pool)
    .await?;
    row.map(Connection::try_from).transpose()
}

/// The tenant's connections, one per OAuth server.
pub async fn connections(pool: &PgPool, tenant: TenantId) -> Result<Vec<Connection>, StoreError> {
    let rows: Vec<ConnectionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM upstream_oauth_connections WHERE tenant_id = $1 ORDER BY server_id"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Connection::try_from).collect()
}

/// The authorization server found for a connection, and the client mcpgate is there.
#[derive(Debug, Clone)]
pub struct AuthorizationServerRecord {
    pub resource: String,
    pub resource_metadata_url: String,
    pub scope: Option<String>,
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub iss_parameter_supported: bool,
    pub client_registration: ClientRegistration,
    pub client_id: String,
    pub client_secret_sealed: Option<Vec<u8>>,
}

/// Stores what discovery and registration found, before the browser is sent.
pub async fn set_authorization_server(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    record: &AuthorizationServerRecord,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE upstream_oauth_connections SET resource = $3, resource_metadata_url = $4, \
         scope = $5, issuer = $6, authorization_endpoint = $7, token_endpoint = $8, \
         iss_parameter_supported = $9, client_registration = $10, client_id = $11, \
         client_secret_sealed = $12, updated_at = now() \
         WHERE tenant_id = $1 AND server_id = $2",
    )
    .bind(tenant)
    .bind(server)
    .bind(&record.resource)
    .bind(&record.resource_metadata_url)
    .bind(&record.scope)
    .bind(&record.issuer)
    .bind(&record.authorization_endpoint)
    .bind(&record.token_endpoint)
    .bind(record.iss_parameter_supported)
    .bind(record.client_registration.as_str())
    .bind(&record.client_id)
    .bind(&record.client_secret_sealed)
    .execute(pool)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// New tokens, sealed, with the access token's lifetime.
#[derive(Debug, Clone)]
pub struct SealedTokens {
    pub tokens_sealed: Vec<u8>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl SealedTokens {
    /// Tokens issued at `issued_at` whose access token lasts `expires_in` seconds (if
    /// the authorization server said).
    pub fn issued(
        tokens_sealed: Vec<u8>,
        issued_at: DateTime<Utc>,
        expires_in: Option<u64>,
    ) -> Self {
        Self {
            tokens_sealed,
            issued_at,
            expires_at: expires_in
                .and_then(|seconds| i64::try_from(seconds).ok())
                .and_then(chrono::Duration::try_seconds)
                .map(|lifetime| issued_at + lifetime),
        }
    }
}

/// Stores the tokens of a completed authorization: the server is connected.
pub async fn store_connected(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    tokens: &SealedTokens,
    by: &str,
) -> Result<Connection, StoreError> {
    let mut tx = pool.begin().await?;
    let row: ConnectionRow = sqlx::query_as(&format!(
        "UPDATE upstream_oauth_connections SET status = 'connected', status_reason = NULL, \
         tokens_sealed = $3, access_issued_at = $4, access_expires_at = $5, \
         {CLEAR_FAILURE} generation = generation + 1, connected_at = now(), connected_by = $6, \
         updated_at = now() \
         WHERE tenant_id = $1 AND server_id = $2 RETURNING {COLUMNS}"
    ))
    .bind(tenant)
    .bind(server)
    .bind(&tokens.tokens_sealed)
    .bind(tokens.issued_at)
    .bind(tokens.expires_at)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    bump_server(&mut tx, tenant, server).await?;
    tx.commit().await?;
    row.try_into()
}

/// Marks the connection as needing a person to connect again, saying why.
pub async fn mark_needs_reconnect(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    reason: &str,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    set_needs_reconnect(&mut tx, tenant, server, reason).await?;
    tx.commit().await?;
    Ok(())
}

async fn set_needs_reconnect(
    tx: &mut Transaction<'static, Postgres>,
    tenant: TenantId,
    server: ServerId,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "UPDATE upstream_oauth_connections SET status = 'needs_reconnect', status_reason = $3, \
         {CLEAR_FAILURE} updated_at = now() WHERE tenant_id = $1 AND server_id = $2"
    ))
    .bind(tenant)
    .bind(server)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    bump_server(tx, tenant, server).await
}

/// Proxies reload a server whose revision moved (its credentials changed).
async fn bump_server(
    tx: &mut Transaction<'static, Postgres>,
    tenant: TenantId,
    server: ServerId,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE servers SET revision = revision + 1, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(server)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The connection's row, locked until [`RefreshLock::store`], [`RefreshLock::fail`] or
/// drop: one refresh at a time for a server, across every replica.
pub struct RefreshLock {
    tx: Transaction<'static, Postgres>,
    connection: Connection,
}

impl std::fmt::Debug for RefreshLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshLock")
            .field("server", &self.connection.server_id)
            .finish_non_exhaustive()
    }
}

/// What the lock found.
#[derive(Debug)]
pub enum RefreshTurn {
    /// Still the generation the caller saw, and connected: refresh it.
    Due(Box<RefreshLock>),
    /// Another replica refreshed (or the connection changed) meanwhile: nothing to do.
    AlreadyDone,
    /// The authorization server failed lately and the next attempt is not due yet:
    /// nobody refreshes before then (the lock is released).
    BackingOff(RefreshFailure),
}

impl RefreshLock {
    /// Takes the row lock, waiting at most `wait` for another replica's refresh. `seen`
    /// is the generation the caller's tokens came from.
    pub async fn acquire(
        pool: &PgPool,
        tenant: TenantId,
        server: ServerId,
        seen: i64,
        wait: std::time::Duration,
    ) -> Result<RefreshTurn, StoreError> {
        Self::acquire_for(pool, tenant, server, None, seen, wait).await
    }

    /// [`RefreshLock::acquire`] for the server's connection (`grant: None`) or one
    /// grant's own: the same lock, generation and backoff, on that grant's row.
    pub async fn acquire_for(
        pool: &PgPool,
        tenant: TenantId,
        server: ServerId,
        grant: Option<GrantId>,
        seen: i64,
        wait: std::time::Duration,
    ) -> Result<RefreshTurn, StoreError> {
        let mut tx = pool.begin().await?;
        // SET LOCAL takes no bind parameters; the value is a number we format.
        sqlx::query(&format!(
            "SET LOCAL lock_timeout = '{}ms'",
            wait.as_millis()
        ))
        .execute(&mut *tx)
        .await?;
        let locked = match grant {
            Some(grant) => per_grant::lock_grant_row(&mut tx, tenant, server, grant).await?,
            None => {
                let row: Option<ConnectionRow> = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM upstream_oauth_connections \
                     WHERE tenant_id = $1 AND server_id = $2 FOR UPDATE"
                ))
                .bind(tenant)
                .bind(server)
                .fetch_optional(&mut *tx)
                .await?;
                row.map(Connection::try_from).transpose()?
            }
        };
        let Some(connection) = locked else {
            return Ok(RefreshTurn::AlreadyDone);
        };
        if connection.generation != seen || connection.status != ConnectionStatus::Connected {
            return Ok(RefreshTurn::AlreadyDone);
        }
        if let Some(failure) = connection
            .refresh_failure
            .as_ref()
            .filter(|failure| failure.next_attempt_at > Utc::now())
        {
            return Ok(RefreshTurn::BackingOff(failure.clone()));
        }
        Ok(RefreshTurn::Due(Box::new(RefreshLock { tx, connection })))
    }

    /// The locked connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Stores the refreshed tokens and releases the lock.
    pub async fn store(mut self, tokens: &SealedTokens) -> Result<(), StoreError> {
        let (tenant, server) = (self.connection.tenant_id, self.connection.server_id);
        if let Some(grant) = self.connection.grant_id {
            let update = per_grant::GrantUpdate::Refreshed(tokens);
            per_grant::update_grant_row(&mut self.tx, tenant, server, grant, update).await?;
            self.tx.commit().await?;
            return Ok(());
        }
        sqlx::query(&format!(
            "UPDATE upstream_oauth_connections SET tokens_sealed = $3, access_issued_at = $4, \
             access_expires_at = $5, generation = generation + 1, refreshed_at = now(), \
             {CLEAR_FAILURE} updated_at = now() WHERE tenant_id = $1 AND server_id = $2"
        ))
        .bind(tenant)
        .bind(server)
        .bind(&tokens.tokens_sealed)
        .bind(tokens.issued_at)
        .bind(tokens.expires_at)
        .execute(&mut *self.tx)
        .await?;
        bump_server(&mut self.tx, tenant, server).await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Records that the authorization server could not be used for now (unreachable,
    /// 5xx): the connection stays connected, one more failed attempt is counted, and no
    /// replica tries again before `next_attempt_at`. Releases the lock; answers the
    /// failure as stored.
    pub async fn postpone(
        mut self,
        reason: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<RefreshFailure, StoreError> {
        let (tenant, server) = (self.connection.tenant_id, self.connection.server_id);
        if let Some(grant) = self.connection.grant_id {
            let update = per_grant::GrantUpdate::Postponed {
                reason,
                next_attempt_at,
            };
            let (attempts, failed_at) =
                per_grant::update_grant_row(&mut self.tx, tenant, server, grant, update).await?;
            self.tx.commit().await?;
            return Ok(RefreshFailure {
                reason: reason.to_owned(),
                attempts,
                failed_at: failed_at.unwrap_or_else(Utc::now),
                next_attempt_at,
            });
        }
        let (attempts, failed_at): (i32, DateTime<Utc>) = sqlx::query_as(
            "UPDATE upstream_oauth_connections SET refresh_failures = refresh_failures + 1, \
             refresh_failure_reason = $3, refresh_failed_at = now(), \
             next_refresh_attempt_at = $4, updated_at = now() \
             WHERE tenant_id = $1 AND server_id = $2 RETURNING refresh_failures, refresh_failed_at",
        )
        .bind(tenant)
        .bind(server)
        .bind(reason)
        .bind(next_attempt_at)
        .fetch_one(&mut *self.tx)
        .await?;
        // The proxies' entries carry the schedule, so they wait without asking.
        bump_server(&mut self.tx, tenant, server).await?;
        self.tx.commit().await?;
        Ok(RefreshFailure {
            reason: reason.to_owned(),
            attempts,
            failed_at,
            next_attempt_at,
        })
    }

    /// Records that the refresh was refused (needs reconnect) and releases the lock.
    pub async fn fail(mut self, reason: &str) -> Result<(), StoreError> {
        let (tenant, server) = (self.connection.tenant_id, self.connection.server_id);
        if let Some(grant) = self.connection.grant_id {
            let update = per_grant::GrantUpdate::NeedsReconnect(reason);
            per_grant::update_grant_row(&mut self.tx, tenant, server, grant, update).await?;
            self.tx.commit().await?;
            return Ok(());
        }
        set_needs_reconnect(&mut self.tx, tenant, server, reason).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// A connection whose access token the API's refresher renews ahead of its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct DueConnection {
    pub tenant_id: TenantId,
    pub server_id: ServerId,
    /// `Some`: that grant's own connection to a per-grant server.
    pub grant_id: Option<GrantId>,
    /// The generation its tokens are at, for [`RefreshLock::acquire`].
    pub generation: i64,
}

/// Connected connections, across tenants, whose access token expires within `margin`
/// of now (but never more than half its lifetime ahead, so a short-lived token is not
/// renewed over and over) and whose backoff, if any, has passed; soonest first, at most
/// `limit`. A scan for the API's background refresher: the table has one row per OAuth
/// server, so it reads it whole rather than through an index of its own.
pub async fn connections_due(
    pool: &PgPool,
    margin: std::time::Duration,
    limit: i64,
) -> Result<Vec<DueConnection>, StoreError> {
    let margin_seconds = margin.as_secs_f64();
    // The same condition on a server's row and on a grant's own (per-grant servers).
    const DUE: &str = "status = 'connected' AND access_expires_at IS NOT NULL \
        AND (next_refresh_attempt_at IS NULL OR next_refresh_attempt_at <= now()) \
        AND access_expires_at - LEAST(make_interval(secs => $1), \
              (access_expires_at - COALESCE(access_issued_at, access_expires_at)) / 2) <= now()";
    Ok(sqlx::query_as(&format!(
        "SELECT tenant_id, server_id, NULL::uuid AS grant_id, generation, access_expires_at \
         FROM upstream_oauth_connections WHERE {DUE} \
         UNION ALL \
         SELECT tenant_id, server_id, grant_id, generation, access_expires_at FROM ( \
           SELECT g.* FROM upstream_oauth_grant_connections g JOIN upstream_oauth_connections c \
             ON c.tenant_id = g.tenant_id AND c.server_id = g.server_id \
           WHERE c.connection_scope = 'grant') AS grant_rows WHERE {DUE} \
         ORDER BY access_expires_at LIMIT $2"
    ))
    .bind(margin_seconds)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// An authorization request in flight.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Flow {
    pub tenant_id: TenantId,
    pub server_id: ServerId,
    pub code_verifier_sealed: Vec<u8>,
    pub issuer: String,
    pub redirect_uri: String,
    pub started_by: String,
    /// The grant whose own connection this is (a per-grant server); `None`: the tenant's.
    pub grant_id: Option<GrantId>,
}

/// Records an authorization request; `state_hash` is SHA-256 of its state.
pub async fn insert_flow(
    pool: &PgPool,
    tenant: TenantId,
    state_hash: &[u8; 32],
    flow: &Flow,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO upstream_oauth_flows (tenant_id, state_hash, server_id, code_verifier_sealed, \
         issuer, redirect_uri, started_by, expires_at, grant_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant)
    .bind(&state_hash[..])
    .bind(flow.server_id)
    .bind(&flow.code_verifier_sealed)
    .bind(&flow.issuer)
    .bind(&flow.redirect_uri)
    .bind(&flow.started_by)
    .bind(expires_at)
    .bind(flow.grant_id)
    .execute(pool)
    .await?;
    // Expired requests of the tenant are of no use to anyone.
    sqlx::query("DELETE FROM upstream_oauth_flows WHERE tenant_id = $1 AND expires_at < now()")
        .bind(tenant)
        .execute(pool)
        .await?;
    Ok(())
}

/// Takes the request a state names, once: a second callback with the same state (or
/// one after it expired) finds nothing.
pub async fn take_flow(
    pool: &PgPool,
    tenant: TenantId,
    state_hash: &[u8; 32],
) -> Result<Option<Flow>, StoreError> {
    Ok(sqlx::query_as(
        "DELETE FROM upstream_oauth_flows WHERE tenant_id = $1 AND state_hash = $2 \
         RETURNING tenant_id, server_id, code_verifier_sealed, issuer, redirect_uri, started_by, \
         grant_id, (expires_at > now()) AS fresh",
    )
    .bind(tenant)
    .bind(&state_hash[..])
    .fetch_optional(pool)
    .await?
    .filter(|flow: &FlowRow| flow.fresh)
    .map(|flow| flow.flow))
}

#[derive(sqlx::FromRow)]
struct FlowRow {
    #[sqlx(flatten)]
    flow: Flow,
    fresh: bool,
}

/// What happened to a connection, for the audit log (never with a token in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionEvent {
    /// A person was sent to the authorization server.
    ConnectStarted,
    /// The authorization completed: tokens are held.
    Connected,
    /// The authorization did not complete.
    ConnectFailed,
    /// The access token was refreshed.
    Refreshed,
    /// The authorization server refused the refresh: the server needs reconnecting.
    RefreshFailed,
    /// The authorization server could not be reached (or answered 5xx): still
    /// connected, the next attempt is postponed.
    RefreshPostponed,
    /// A grant's own connection was deleted (by a person, or with its grant).
    Disconnected,
}

impl ConnectionEvent {
    /// The audit row's `method`.
    pub const fn method(self) -> &'static str {
        match self {
            ConnectionEvent::ConnectStarted => "upstream_oauth/connect_started",
            ConnectionEvent::Connected => "upstream_oauth/connected",
            ConnectionEvent::ConnectFailed => "upstream_oauth/connect_failed",
            ConnectionEvent::Refreshed => "upstream_oauth/refreshed",
            ConnectionEvent::RefreshFailed => "upstream_oauth/refresh_failed",
            ConnectionEvent::RefreshPostponed => "upstream_oauth/refresh_postponed",
            ConnectionEvent::Disconnected => "upstream_oauth/disconnected",
        }
    }

    /// The audit row's `decision`: `allow` when it worked, else `error`.
    pub const fn decision(self) -> &'static str {
        match self {
            ConnectionEvent::ConnectStarted
            | ConnectionEvent::Connected
            | ConnectionEvent::Refreshed
            | ConnectionEvent::Disconnected => "allow",
            ConnectionEvent::ConnectFailed
            | ConnectionEvent::RefreshFailed
            | ConnectionEvent::RefreshPostponed => "error",
        }
    }
}

/// Writes one audit row for a connection event.
pub async fn audit(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    event: ConnectionEvent,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), StoreError> {
    audit_for(pool, tenant, server, None, event, reason, actor).await
}

/// [`audit`] of the server's connection (`grant: None`) or of one grant's own.
pub async fn audit_for(
    pool: &PgPool,
    tenant: TenantId,
    server: ServerId,
    grant: Option<GrantId>,
    event: ConnectionEvent,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), StoreError> {
    let row = crate::audit::AuditEvent {
        id: crate::AuditEventId::new(),
        tenant_id: tenant,
        at: Utc::now(),
        server_id: Some(server),
        grant_id: grant,
        request_id: None,
        method: event.method().to_owned(),
        tool: None,
        decision: event.decision().to_owned(),
        rule: None,
        reason: reason.map(str::to_owned),
        policy_version: None,
        upstream_status: None,
        latency_us: None,
        argument_keys: Vec::new(),
        arguments: None,
        actor: Some(actor.to_owned()),
    };
    crate::audit::insert_audit_events(pool, std::slice::from_ref(&row)).await
}
