//! Password reset links: single-use and short-lived, stored as the SHA-256 of their
//! token. Using one sets the password and ends every session of the person.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::ids::{TenantId, UserId};
use crate::StoreError;

/// The pseudo-constraint named when a reset link was already used (or replaced by a
/// newer one).
pub const RESET_USED: &str = "password_reset_used";

/// What the store keeps of a new reset link.
#[derive(Debug, Clone)]
pub struct NewPasswordReset {
    pub user: UserId,
    /// The link's secret; only its SHA-256 (computed by Postgres) is stored.
    pub token: String,
    /// `self`, or the admin who made it (`user:<email>`, `api-key:<prefix>`).
    pub requested_by: String,
    /// The tenant whose admin made it.
    pub tenant: Option<TenantId>,
    pub expires_at: DateTime<Utc>,
}

/// Stores a reset link; the person's earlier unused links stop working, so only the
/// newest one sent or shown is live.
pub async fn create_reset(pool: &PgPool, reset: &NewPasswordReset) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(reset.user)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO password_resets (id, user_id, token_hash, requested_by, tenant_id, expires_at) \
         VALUES ($1, $2, sha256(convert_to($3, 'UTF8')), $4, $5, $6)",
    )
    .bind(Uuid::now_v7())
    .bind(reset.user)
    .bind(&reset.token)
    .bind(&reset.requested_by)
    .bind(reset.tenant)
    .bind(reset.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A live link, as its page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenReset {
    pub user_id: UserId,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

/// The unused, unexpired link whose secret is `token`.
pub async fn open_reset(pool: &PgPool, token: &str) -> Result<Option<OpenReset>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.user_id, u.email, r.expires_at FROM password_resets r \
         JOIN users u ON u.id = r.user_id \
         WHERE r.token_hash = sha256(convert_to($1, 'UTF8')) AND r.used_at IS NULL \
           AND r.expires_at > now()",
    )
    .bind(token)
    .fetch_optional(pool)
    .await?)
}

/// What using a link did.
#[derive(Debug, Clone)]
pub struct UsedReset {
    pub user_id: UserId,
    pub email: String,
    /// How many dashboard sessions of the person ended (in every tenant).
    pub sessions_ended: u64,
}

/// Uses the link whose secret is `token`: in one transaction the link is marked used,
/// the password hash replaced and every session of the person deleted. `NotFound` if
/// the link is unknown or expired, `Conflict { RESET_USED }` if used or replaced.
pub async fn reset_password(
    pool: &PgPool,
    token: &str,
    password_hash: &str,
) -> Result<UsedReset, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        user_id: UserId,
        email: String,
        used: bool,
        expired: bool,
    }
    let mut tx = pool.begin().await?;
    let row: Row = sqlx::query_as(
        "SELECT r.id, r.user_id, u.email, r.used_at IS NOT NULL AS used, \
                r.expires_at <= now() AS expired \
         FROM password_resets r JOIN users u ON u.id = r.user_id \
         WHERE r.token_hash = sha256(convert_to($1, 'UTF8')) FOR UPDATE OF r",
    )
    .bind(token)
    .fetch_one(&mut *tx)
    .await?;
    if row.used {
        return Err(StoreError::Conflict {
            constraint: RESET_USED.to_owned(),
        });
    }
    if row.expired {
        return Err(StoreError::NotFound);
    }
    sqlx::query("UPDATE password_resets SET used_at = now() WHERE id = $1")
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(row.user_id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
    let sessions_ended = sqlx::query("DELETE FROM dashboard_sessions WHERE user_id = $1")
        .bind(row.user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(UsedReset {
        user_id: row.user_id,
        email: row.email,
        sessions_ended,
    })
}

/// The person's address as stored (where their reset mail goes).
pub async fn account_email(pool: &PgPool, user: UserId) -> Result<String, StoreError> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
}
