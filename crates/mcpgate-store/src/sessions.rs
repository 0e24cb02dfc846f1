//! Dashboard sessions (Postgres) and the login-failure counters (Redis).
//!
//! A session is found by the browser's cookie value, which is never stored: the
//! table keeps its SHA-256, computed by Postgres (`sha256()`), so the secret
//! only exists in the cookie.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::ids::{TenantId, UserId};
use crate::roles::Role;
use crate::{AtomicScript, Redis, StoreError};

/// A live session with what a dashboard request needs of its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub email: String,
    pub tenant_name: String,
    /// The member's role in the session's tenant, read on every request.
    pub role: Role,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A session to store.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// The cookie value; only its hash is stored.
    pub secret: &'a str,
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// Stores a new session for the tenant's user.
pub async fn create_session(
    pool: &PgPool,
    tenant: TenantId,
    session: &NewSession<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO dashboard_sessions (session_hash, tenant_id, user_id, csrf_token, expires_at) \
         VALUES (sha256(convert_to($1, 'UTF8')), $2, $3, $4, $5)",
    )
    .bind(session.secret)
    .bind(tenant)
    .bind(session.user_id)
    .bind(session.csrf_token)
    .bind(session.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The unexpired session whose cookie value is `secret`, with the member's current
/// role, and records that it was seen (at most once a minute, to spare writes). A
/// removed member has no session (the membership's removal deleted it), and a tenant
/// with SSO only admits only sessions its identity provider started (`sso_tenant_id`),
/// so neither a password login nor switching tenants gets around it.
pub async fn live_session(pool: &PgPool, secret: &str) -> Result<Option<Session>, StoreError> {
    Ok(sqlx::query_as(
        "WITH found AS ( \
             UPDATE dashboard_sessions SET last_seen_at = CASE \
                 WHEN last_seen_at < now() - interval '1 minute' THEN now() ELSE last_seen_at END \
             WHERE session_hash = sha256(convert_to($1, 'UTF8')) AND expires_at > now() \
             RETURNING tenant_id, user_id, csrf_token, expires_at, sso_tenant_id) \
         SELECT found.tenant_id, found.user_id, users.email, tenants.name AS tenant_name, \
                memberships.role, found.csrf_token, found.expires_at \
         FROM found JOIN users ON users.id = found.user_id \
         JOIN memberships ON memberships.tenant_id = found.tenant_id \
              AND memberships.user_id = found.user_id \
         JOIN tenants ON tenants.id = found.tenant_id \
         WHERE NOT EXISTS (SELECT 1 FROM tenant_sso WHERE tenant_sso.tenant_id = found.tenant_id \
             AND tenant_sso.sso_only AND found.sso_tenant_id IS DISTINCT FROM found.tenant_id)",
    )
    .bind(secret)
    .fetch_optional(pool)
    .await?)
}

/// Ends the session whose cookie value is `secret` (nothing if there is none).
pub async fn delete_session(pool: &PgPool, secret: &str) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM dashboard_sessions WHERE session_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(secret)
    .execute(pool)
    .await?;
    Ok(())
}

/// Moves the session whose cookie value is `secret` to another tenant of its user;
/// `NotFound` unless the user is a member there (the foreign key refuses it).
pub async fn switch_tenant(
    pool: &PgPool,
    secret: &str,
    user: UserId,
    tenant: TenantId,
) -> Result<(), StoreError> {
    let moved = sqlx::query(
        "UPDATE dashboard_sessions SET tenant_id = $3 \
         WHERE session_hash = sha256(convert_to($1, 'UTF8')) AND user_id = $2 \
           AND EXISTS (SELECT 1 FROM memberships WHERE tenant_id = $3 AND user_id = $2)",
    )
    .bind(secret)
    .bind(user)
    .bind(tenant)
    .execute(pool)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// One of a person's live sessions, as their session list shows it (never its secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionSummary {
    pub tenant_name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether it is the session asking.
    pub current: bool,
}

/// The user's unexpired sessions in every tenant, newest first; `secret` marks the
/// current one.
pub async fn user_sessions(
    pool: &PgPool,
    user: UserId,
    secret: &str,
) -> Result<Vec<SessionSummary>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT tenants.name AS tenant_name, s.created_at, s.last_seen_at, s.expires_at, \
                s.session_hash = sha256(convert_to($2, 'UTF8')) AS current \
         FROM dashboard_sessions s JOIN tenants ON tenants.id = s.tenant_id \
         WHERE s.user_id = $1 AND s.expires_at > now() ORDER BY s.created_at DESC",
    )
    .bind(user)
    .bind(secret)
    .fetch_all(pool)
    .await?)
}

/// Ends every session of the user, in every tenant (sign out everywhere); returns how many.
pub async fn delete_user_sessions(pool: &PgPool, user: UserId) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM dashboard_sessions WHERE user_id = $1")
            .bind(user)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// Removes expired sessions; returns how many.
pub async fn delete_expired_sessions(pool: &PgPool) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at <= now()")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// The answer to [`reserve_login_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The attempt is counted; check the password, then clear or keep it.
    Reserved,
    /// `max` attempts are already counted in the window: refuse without checking.
    Refused {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
}

/// Counts one login attempt under `key` before its password is checked, atomically, so
/// parallel guesses cannot all pass a check that only counts finished failures. The
/// window starts at the first attempt (`EXPIRE NX`: retrying does not push its end out)
/// and lasts `window_secs`; a refused attempt is not counted.
pub async fn reserve_login_attempt(
    redis: &Redis,
    key: &str,
    max: u64,
    window_secs: u64,
) -> Result<LoginAttempt, StoreError> {
    const RESERVE: &str = r"
        local count = redis.call('INCR', KEYS[1])
        redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
        if count > tonumber(ARGV[1]) then
            redis.call('DECR', KEYS[1])
            return {0, redis.call('TTL', KEYS[1])}
        end
        return {1, 0}
    ";
    let mut conn = redis.connection();
    let (reserved, ttl): (i64, i64) = AtomicScript::new(RESERVE)
        .call()
        .key(key)
        .arg(max)
        .arg(window_secs)
        .invoke(&mut conn)
        .await?;
    Ok(if reserved == 1 {
        LoginAttempt::Reserved
    } else {
        LoginAttempt::Refused {
            retry_after_secs: u64::try_from(ttl).unwrap_or(0).max(1),
        }
    })
}

/// Gives back one attempt reserved under `key` whose password was never checked (the
/// server was too busy). Never creates the key: after its window it stays gone.
pub async fn release_login_attempt(redis: &Redis, key: &str) -> Result<(), StoreError> {
    const RELEASE: &str = r"
        if redis.call('EXISTS', KEYS[1]) == 1 then
            if redis.call('DECR', KEYS[1]) <= 0 then
                redis.call('DEL', KEYS[1])
            end
        end
        return 0
    ";
    let mut conn = redis.connection();
    AtomicScript::new(RELEASE)
        .call()
        .key(key)
        .invoke::<i64>(&mut conn)
        .await?;
    Ok(())
}

/// Forgets the attempts counted under `key` (after a successful login).
pub async fn clear_login_failures(redis: &Redis, key: &str) -> Result<(), StoreError> {
    let mut conn = redis.connection();
    redis::cmd("DEL")
        .arg(key)
        .query_async::<i64>(&mut conn)
        .await?;
    Ok(())
}
