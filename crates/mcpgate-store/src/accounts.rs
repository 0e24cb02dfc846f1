//! Tenants, their users and their API keys.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::ids::{ApiKeyId, TenantId, UserId};
use crate::roles::Role;
use crate::StoreError;

/// A tenant.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A user, without the password hash.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: String,
    /// `owner`, `admin` or `member`.
    pub role: String,
    pub created_at: DateTime<Utc>,
}

/// A user with the password hash, for logging in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserCredentials {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub password_hash: String,
}

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    /// The key's public start, which identifies it in lists and logs.
    pub prefix: String,
    /// What the key may do.
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What the store keeps of a new API key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub hash: Vec<u8>,
}

/// A sign-up: the tenant, its owner and a first API key (an admin's), created together.
#[derive(Debug, Clone)]
pub struct NewSignup {
    pub tenant_name: String,
    pub email: String,
    pub password_hash: String,
    pub first_key: NewApiKey,
}

/// Creates the tenant, its owner (its first admin) and its first API key in one transaction.
///
/// A taken email is `StoreError::Conflict { constraint: "users_email_key" }`.
pub async fn sign_up(
    pool: &PgPool,
    signup: &NewSignup,
) -> Result<(Tenant, User, ApiKey), StoreError> {
    let mut tx = pool.begin().await?;
    let tenant: Tenant = sqlx::query_as(
        "INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING id, name, created_at",
    )
    .bind(TenantId::new())
    .bind(signup.tenant_name.trim())
    .fetch_one(&mut *tx)
    .await?;
    let user: User = sqlx::query_as(
        "INSERT INTO users (id, tenant_id, email, password_hash, role) VALUES ($1, $2, $3, $4, 'owner') \
         RETURNING id, tenant_id, email, role, created_at",
    )
    .bind(UserId::new())
    .bind(tenant.id)
    .bind(signup.email.trim())
    .bind(&signup.password_hash)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'admin')")
        .bind(tenant.id)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let key = insert_api_key(&mut *tx, tenant.id, &signup.first_key, Role::Admin).await?;
    tx.commit().await?;
    Ok((tenant, user, key))
}

/// The user with this email (any case), for logging in, with the tenant they land
/// in: the one they signed up into while they are its member, else their oldest
/// membership. Someone who belongs to no tenant any more is not found.
pub async fn user_credentials(
    pool: &PgPool,
    email: &str,
) -> Result<Option<UserCredentials>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT u.id, m.tenant_id, u.password_hash FROM users u \
         JOIN LATERAL (SELECT tenant_id FROM memberships WHERE user_id = u.id \
             ORDER BY tenant_id = u.tenant_id DESC, created_at, tenant_id LIMIT 1) m ON true \
         WHERE lower(u.email) = lower($1)",
    )
    .bind(email.trim())
    .fetch_optional(pool)
    .await?)
}

/// A tenant's user.
pub async fn user(pool: &PgPool, tenant: TenantId, id: UserId) -> Result<User, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, email, role, created_at FROM users WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// A tenant by id.
pub async fn tenant(pool: &PgPool, tenant: TenantId) -> Result<Tenant, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, name, created_at FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(pool)
            .await?,
    )
}

async fn insert_api_key<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    tenant: TenantId,
    key: &NewApiKey,
    role: Role,
) -> Result<ApiKey, StoreError> {
    Ok(sqlx::query_as(
        "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING id, name, prefix, role, created_at, last_used_at, revoked_at",
    )
    .bind(ApiKeyId::new())
    .bind(tenant)
    .bind(key.name.trim())
    .bind(&key.prefix)
    .bind(&key.hash)
    .bind(role)
    .fetch_one(executor)
    .await?)
}

/// Stores a new API key for the tenant, with `role`'s permissions.
pub async fn create_api_key(
    pool: &PgPool,
    tenant: TenantId,
    key: &NewApiKey,
    role: Role,
) -> Result<ApiKey, StoreError> {
    insert_api_key(pool, tenant, key, role).await
}

/// The tenant's API keys, newest first, revoked ones included.
pub async fn list_api_keys(pool: &PgPool, tenant: TenantId) -> Result<Vec<ApiKey>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, name, prefix, role, created_at, last_used_at, revoked_at FROM api_keys \
         WHERE tenant_id = $1 ORDER BY id DESC",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await?)
}

/// Revokes a key; `NotFound` if the tenant has no such live key.
pub async fn revoke_api_key(
    pool: &PgPool,
    tenant: TenantId,
    id: ApiKeyId,
) -> Result<ApiKey, StoreError> {
    Ok(sqlx::query_as(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = $1 AND id = $2 \
         RETURNING id, name, prefix, role, created_at, last_used_at, revoked_at",
    )
    .bind(tenant)
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// A live key's owner and stored hash, looked up by its public prefix.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyLookup {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub key_hash: Vec<u8>,
    pub role: Role,
}

/// Finds the live (unrevoked) key with this prefix.
pub async fn api_key_by_prefix(
    pool: &PgPool,
    prefix: &str,
) -> Result<Option<ApiKeyLookup>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, key_hash, role FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL",
    )
    .bind(prefix)
    .fetch_optional(pool)
    .await?)
}

/// Records that a key was used (at most once a minute, to spare writes).
pub async fn touch_api_key(pool: &PgPool, id: ApiKeyId) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = now() WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The user's stored password hash (`sso::NO_PASSWORD` for an account made by SSO).
pub async fn password_hash(pool: &PgPool, user: UserId) -> Result<String, StoreError> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Sets the user's password hash and ends every other session of theirs, in every
/// tenant (the one whose cookie is `keep_secret` stays), in one transaction; returns
/// how many sessions ended.
pub async fn change_password(
    pool: &PgPool,
    user: UserId,
    password_hash: &str,
    keep_secret: &str,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let updated = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let ended = sqlx::query(
        "DELETE FROM dashboard_sessions WHERE user_id = $1 \
         AND session_hash <> sha256(convert_to($2, 'UTF8'))",
    )
    .bind(user)
    .bind(keep_secret)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(ended)
}
