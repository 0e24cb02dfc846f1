//! mcpgate as the OAuth authorization server of its proxy URLs: dynamically registered
//! clients, authorization codes, connections (the grant each connected client is) and
//! their rotating refresh tokens. Codes and refresh tokens are stored as SHA-256 only
//! (hashed by Postgres, as dashboard sessions are), so a read of these tables yields
//! nothing that works.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::grants::{self, Grant, NewGrant};
use crate::ids::{GrantId, ServerId, TenantId};
use crate::StoreError;

/// A client registered through Dynamic Client Registration (RFC 7591).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub client_uri: Option<String>,
}

/// Stores a registration.
pub async fn register_client(pool: &PgPool, client: &RegisteredClient) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oauth_clients (client_id, client_name, redirect_uris, client_uri) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&client.client_id)
    .bind(&client.client_name)
    .bind(&client.redirect_uris)
    .bind(&client.client_uri)
    .execute(pool)
    .await?;
    Ok(())
}

/// A registration, if `client_id` is one.
pub async fn registered_client(
    pool: &PgPool,
    client_id: &str,
) -> Result<Option<RegisteredClient>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT client_id, client_name, redirect_uris, client_uri FROM oauth_clients \
         WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(pool)
    .await?)
}

/// Deletes registrations made before `before` that never became a connection: anyone
/// may register, so what nobody connected does not pile up.
pub async fn sweep_unused_clients(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "DELETE FROM oauth_clients c WHERE c.created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM oauth_connections o WHERE o.client_id = c.client_id)",
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Whether the tenant accepts dynamically registered clients.
pub async fn dynamic_registration_allowed(
    pool: &PgPool,
    tenant: TenantId,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT oauth_dynamic_registration FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(pool)
            .await?,
    )
}

/// Turns dynamically registered clients on or off for the tenant.
pub async fn set_dynamic_registration(
    pool: &PgPool,
    tenant: TenantId,
    allowed: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tenants SET oauth_dynamic_registration = $2 WHERE id = $1")
        .bind(tenant)
        .bind(allowed)
        .execute(pool)
        .await?;
    Ok(())
}

/// What an authorization code is bound to, and what was consented to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Code {
    pub tenant_id: TenantId,
    pub server_id: ServerId,
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    /// The PKCE S256 challenge (base64url of the verifier's SHA-256).
    pub code_challenge: String,
    pub resource: String,
    pub grant_policy: Option<String>,
    pub grant_expires_at: Option<DateTime<Utc>>,
    pub consented_by: String,
    pub expires_at: DateTime<Utc>,
}

/// Stores a new code, `secret` being what the client receives.
pub async fn insert_code(pool: &PgPool, secret: &str, code: &Code) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oauth_codes (code_hash, tenant_id, server_id, client_id, client_name, \
         redirect_uri, code_challenge, resource, grant_policy, grant_expires_at, consented_by, \
         expires_at) VALUES (sha256(convert_to($1, 'UTF8')), $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12)",
    )
    .bind(secret)
    .bind(code.tenant_id)
    .bind(code.server_id)
    .bind(&code.client_id)
    .bind(&code.client_name)
    .bind(&code.redirect_uri)
    .bind(&code.code_challenge)
    .bind(&code.resource)
    .bind(&code.grant_policy)
    .bind(code.grant_expires_at)
    .bind(&code.consented_by)
    .bind(code.expires_at)
    .execute(pool)
    .await?;
    // Codes live a minute; sweeping here needs no background job.
    sqlx::query("DELETE FROM oauth_codes WHERE expires_at < now() - interval '1 day'")
        .execute(pool)
        .await?;
    Ok(())
}

/// A code presented at the token endpoint.
#[derive(Debug, Clone)]
pub enum TakenCode {
    /// First use: it is spent now, whatever the checks that follow say.
    Fresh(Code),
    /// Used before; `grant` is what the first use was exchanged for, if it was.
    Spent {
        tenant: TenantId,
        grant: Option<GrantId>,
    },
    /// Not a code of ours.
    Unknown,
}

/// Spends a code: one statement, so two requests racing with the same code cannot both
/// get it fresh.
pub async fn take_code(pool: &PgPool, secret: &str) -> Result<TakenCode, StoreError> {
    let fresh: Option<Code> = sqlx::query_as(
        "UPDATE oauth_codes SET used_at = now() \
         WHERE code_hash = sha256(convert_to($1, 'UTF8')) AND used_at IS NULL \
         RETURNING tenant_id, server_id, client_id, client_name, redirect_uri, code_challenge, \
         resource, grant_policy, grant_expires_at, consented_by, expires_at",
    )
    .bind(secret)
    .fetch_optional(pool)
    .await?;
    if let Some(code) = fresh {
        return Ok(TakenCode::Fresh(code));
    }
    let spent: Option<(TenantId, Option<GrantId>)> = sqlx::query_as(
        "SELECT tenant_id, grant_id FROM oauth_codes \
         WHERE code_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(secret)
    .fetch_optional(pool)
    .await?;
    Ok(match spent {
        Some((tenant, grant)) => TakenCode::Spent { tenant, grant },
        None => TakenCode::Unknown,
    })
}

/// A connected client: the grant it is, and whose client it is.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Connection {
    pub grant_id: GrantId,
    pub client_id: String,
    pub client_name: String,
    /// The proxy URL its access tokens are for.
    pub resource: String,
    pub created_at: DateTime<Utc>,
}

/// A code exchanged for a connection.
#[derive(Debug, Clone)]
pub struct NewConnection<'a> {
    pub grant: NewGrant,
    pub client_id: &'a str,
    pub client_name: &'a str,
    pub resource: &'a str,
    /// The code it was exchanged for (so a second use can revoke it).
    pub code_secret: &'a str,
    pub refresh_secret: &'a str,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Creates the grant, the connection and its first refresh token, and records the grant
/// on the code: all or nothing.
pub async fn connect(
    pool: &PgPool,
    tenant: TenantId,
    connection: &NewConnection<'_>,
) -> Result<Grant, StoreError> {
    let mut tx = pool.begin().await?;
    let grant = grants::create_grant(&mut *tx, tenant, &connection.grant).await?;
    sqlx::query(
        "INSERT INTO oauth_connections (tenant_id, grant_id, client_id, client_name, resource) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant)
    .bind(grant.id)
    .bind(connection.client_id)
    .bind(connection.client_name)
    .bind(connection.resource)
    .execute(&mut *tx)
    .await?;
    insert_refresh_token(
        &mut tx,
        tenant,
        grant.id,
        connection.refresh_secret,
        connection.refresh_expires_at,
    )
    .await?;
    sqlx::query(
        "UPDATE oauth_codes SET grant_id = $2 WHERE code_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(connection.code_secret)
    .bind(grant.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(grant)
}

async fn insert_refresh_token(
    tx: &mut sqlx::PgConnection,
    tenant: TenantId,
    grant: GrantId,
    secret: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oauth_refresh_tokens (token_hash, tenant_id, grant_id, expires_at) \
         VALUES (sha256(convert_to($1, 'UTF8')), $2, $3, $4)",
    )
    .bind(secret)
    .bind(tenant)
    .bind(grant)
    .bind(expires_at)
    .execute(tx)
    .await?;
    Ok(())
}

/// A refresh token presented at the token endpoint.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// It was live: it is spent now and `new` replaces it.
    Rotated {
        grant: Box<Grant>,
        connection: Connection,
    },
    /// It was spent before: someone holds a copy. The caller revokes the grant.
    Reused { tenant: TenantId, grant: GrantId },
    /// Unknown, expired, another client's, or its grant is revoked or expired.
    Refused,
}

/// Spends the refresh token `old` presented by `client_id` and stores `new` in its
/// place, in one transaction (the row is locked, so of two racing uses one is a reuse).
pub async fn rotate_refresh_token(
    pool: &PgPool,
    client_id: &str,
    old: &str,
    new: &str,
    new_expires_at: DateTime<Utc>,
) -> Result<Rotation, StoreError> {
    let mut tx = pool.begin().await?;
    let found: Option<StoredRefreshToken> = sqlx::query_as(
        "SELECT tenant_id, grant_id, used_at, expires_at FROM oauth_refresh_tokens \
             WHERE token_hash = sha256(convert_to($1, 'UTF8')) FOR UPDATE",
    )
    .bind(old)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(StoredRefreshToken {
        tenant_id: tenant,
        grant_id,
        used_at,
        expires_at,
    }) = found
    else {
        return Ok(Rotation::Refused);
    };
    if used_at.is_some() {
        return Ok(Rotation::Reused {
            tenant,
            grant: grant_id,
        });
    }
    let connection: Connection = sqlx::query_as(
        "SELECT grant_id, client_id, client_name, resource, created_at FROM oauth_connections \
         WHERE tenant_id = $1 AND grant_id = $2",
    )
    .bind(tenant)
    .bind(grant_id)
    .fetch_one(&mut *tx)
    .await?;
    let grant = grants::grant(pool, tenant, grant_id).await?;
    let now = Utc::now();
    let live = grant.revoked_at.is_none() && grant.expires_at.is_none_or(|at| at > now);
    if expires_at <= now || connection.client_id != client_id || !live {
        return Ok(Rotation::Refused);
    }
    sqlx::query(
        "UPDATE oauth_refresh_tokens SET used_at = now() \
         WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(old)
    .execute(&mut *tx)
    .await?;
    insert_refresh_token(&mut tx, tenant, grant_id, new, new_expires_at).await?;
    tx.commit().await?;
    Ok(Rotation::Rotated {
        grant: Box::new(grant),
        connection,
    })
}

#[derive(sqlx::FromRow)]
struct StoredRefreshToken {
    tenant_id: TenantId,
    grant_id: GrantId,
    used_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
}

/// The tenant's connected clients, newest first (revoked ones included: their grants say so).
pub async fn connections(pool: &PgPool, tenant: TenantId) -> Result<Vec<Connection>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT grant_id, client_id, client_name, resource, created_at FROM oauth_connections \
         WHERE tenant_id = $1 ORDER BY created_at DESC, grant_id DESC",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await?)
}

/// A token family: the connection (grant) a token belongs to, and whose client it is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Family {
    pub tenant_id: TenantId,
    pub grant_id: GrantId,
    pub client_id: String,
}

/// The family of a refresh token, live or spent (RFC 7009: revoking any of them ends the
/// family), if `secret` is one of ours.
pub async fn refresh_token_family(
    pool: &PgPool,
    secret: &str,
) -> Result<Option<Family>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.tenant_id, r.grant_id, c.client_id FROM oauth_refresh_tokens r \
         JOIN oauth_connections c ON c.tenant_id = r.tenant_id AND c.grant_id = r.grant_id \
         WHERE r.token_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(secret)
    .fetch_optional(pool)
    .await?)
}

/// The family of grant `grant`, if it is an OAuth connection (a static grant is none).
pub async fn connection_family(
    pool: &PgPool,
    tenant: TenantId,
    grant: GrantId,
) -> Result<Option<Family>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT tenant_id, grant_id, client_id FROM oauth_connections \
         WHERE tenant_id = $1 AND grant_id = $2",
    )
    .bind(tenant)
    .bind(grant)
    .fetch_optional(pool)
    .await?)
}
