//! Single sign-on with OpenID Connect: a tenant's identity provider, the authorization
//! requests in flight (single use), and who an SSO sign-in is in the tenant.

use chrono::{DateTime, Utc};

use crate::{PgPool, Role, StoreError, TenantId, UserId};

/// What `password_hash` holds for an account made by SSO auto-join: not a PHC string,
/// so no password ever matches it.
pub const NO_PASSWORD: &str = "!sso";

/// A tenant's identity provider, as stored (the client secret sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SsoConfig {
    pub tenant_id: TenantId,
    pub issuer: String,
    pub client_id: String,
    pub client_secret_sealed: Vec<u8>,
    pub email_domain: String,
    pub sso_only: bool,
    /// `None`: auto-join is off.
    pub auto_join_role: Option<Role>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin sets.
#[derive(Debug, Clone)]
pub struct NewSsoConfig<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret_sealed: &'a [u8],
    pub email_domain: &'a str,
    pub sso_only: bool,
    pub auto_join_role: Option<Role>,
}

const COLUMNS: &str = "tenant_id, issuer, client_id, client_secret_sealed, email_domain, \
    sso_only, auto_join_role, updated_at";

/// Sets the tenant's provider. A domain another tenant signs in with is
/// `Conflict { constraint: "tenant_sso_domain_key" }`.
pub async fn put_config(
    pool: &PgPool,
    tenant: TenantId,
    config: &NewSsoConfig<'_>,
) -> Result<SsoConfig, StoreError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO tenant_sso (tenant_id, issuer, client_id, client_secret_sealed, \
             email_domain, sso_only, auto_join_role) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id) DO UPDATE SET issuer = $2, client_id = $3, \
             client_secret_sealed = $4, email_domain = $5, sso_only = $6, \
             auto_join_role = $7, updated_at = now() \
         RETURNING {COLUMNS}"
    ))
    .bind(tenant)
    .bind(config.issuer)
    .bind(config.client_id)
    .bind(config.client_secret_sealed)
    .bind(config.email_domain)
    .bind(config.sso_only)
    .bind(config.auto_join_role)
    .fetch_one(pool)
    .await?)
}

/// The tenant's provider, if configured.
pub async fn config(pool: &PgPool, tenant: TenantId) -> Result<Option<SsoConfig>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tenant_sso WHERE tenant_id = $1"
    ))
    .bind(tenant)
    .fetch_optional(pool)
    .await?)
}

/// The provider of the tenant that signs in people of `domain` (any case).
pub async fn config_for_domain(
    pool: &PgPool,
    domain: &str,
) -> Result<Option<SsoConfig>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tenant_sso WHERE email_domain = lower($1)"
    ))
    .bind(domain.trim())
    .fetch_optional(pool)
    .await?)
}

/// Removes the tenant's provider; `false` if there was none.
pub async fn delete_config(pool: &PgPool, tenant: TenantId) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM tenant_sso WHERE tenant_id = $1")
        .bind(tenant)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether the tenant refuses password logins.
pub async fn sso_only(pool: &PgPool, tenant: TenantId) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT sso_only FROM tenant_sso WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(pool)
            .await?
            .unwrap_or(false),
    )
}

/// An authorization request in flight.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SsoLogin {
    pub tenant_id: TenantId,
    pub nonce: String,
    pub code_verifier: String,
}

/// Records an authorization request until `expires_at`; also sweeps expired ones.
pub async fn begin_login(
    pool: &PgPool,
    state_hash: &[u8],
    login: &SsoLogin,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sso_logins WHERE expires_at < now()")
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO sso_logins (state_hash, tenant_id, nonce, code_verifier, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(state_hash)
    .bind(login.tenant_id)
    .bind(&login.nonce)
    .bind(&login.code_verifier)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes the request with this state: deleted in the same statement, so a second
/// callback with the same state finds nothing. `None` also when it expired.
pub async fn take_login(pool: &PgPool, state_hash: &[u8]) -> Result<Option<SsoLogin>, StoreError> {
    let row: Option<(TenantId, String, String, DateTime<Utc>)> = sqlx::query_as(
        "DELETE FROM sso_logins WHERE state_hash = $1 \
         RETURNING tenant_id, nonce, code_verifier, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .filter(|(_, _, _, expires_at)| *expires_at > Utc::now())
        .map(|(tenant_id, nonce, code_verifier, _)| SsoLogin {
            tenant_id,
            nonce,
            code_verifier,
        }))
}

/// The member of `tenant` with this email (any case).
pub async fn member_by_email(
    pool: &PgPool,
    tenant: TenantId,
    email: &str,
) -> Result<Option<UserId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id AND m.tenant_id = $1 \
         WHERE lower(u.email) = lower($2)",
    )
    .bind(tenant)
    .bind(email.trim())
    .fetch_optional(pool)
    .await?)
}

/// Auto-join: the person with this email (made, without a password, when there is
/// none) becomes a member of `tenant` with `role`; an existing membership is kept as
/// it is.
pub async fn auto_join(
    pool: &PgPool,
    tenant: TenantId,
    email: &str,
    role: Role,
) -> Result<UserId, StoreError> {
    let mut tx = pool.begin().await?;
    let email = email.trim();
    let new = UserId::new();
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, password_hash, role) \
         VALUES ($1, $2, $3, $4, 'member') ON CONFLICT ((lower(email))) DO NOTHING",
    )
    .bind(new)
    .bind(tenant)
    .bind(email)
    .bind(NO_PASSWORD)
    .execute(&mut *tx)
    .await?;
    let user: UserId = sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, user_id) DO NOTHING",
    )
    .bind(tenant)
    .bind(user)
    .bind(role)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Records that `tenant`'s identity provider started the session whose cookie value is
/// `secret` (a tenant with SSO only admits no other session).
pub async fn mark_sso_session(
    pool: &PgPool,
    secret: &str,
    tenant: TenantId,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE dashboard_sessions SET sso_tenant_id = $2 \
         WHERE session_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(secret)
    .bind(tenant)
    .execute(pool)
    .await?;
    Ok(())
}
