//! Audit events Postgres refused even once sanitised, kept aside rather than retried
//! forever (which would stop the writer for every tenant) or lost.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::{storable_text, AuditEvent};
use crate::ids::{AuditEventId, TenantId};
use crate::StoreError;

/// Why a write of audit rows failed, as far as a writer must know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditWriteFailure {
    /// Postgres refused the rows' contents (a data exception, an integrity rule, a
    /// size limit): the same rows will fail again, so retrying them whole is pointless.
    Refused,
    /// Postgres could not be reached, timed out, or failed for a reason of its own (a
    /// missing table, a shutdown, too many connections): the same rows may well pass
    /// later.
    Unavailable,
}

impl AuditWriteFailure {
    /// Classifies an error of [`super::insert_audit_events`].
    pub fn of(error: &StoreError) -> Self {
        match error {
            // Unique, foreign-key and check violations.
            StoreError::Conflict { .. } => Self::Refused,
            StoreError::Database(sqlx::Error::Database(database)) => {
                // SQLSTATE classes 22 (data exception), 23 (integrity constraint
                // violation) and 54 (program limit exceeded) are about the rows sent.
                let code = database.code();
                let class = code
                    .as_deref()
                    .map_or("", |code| code.get(..2).unwrap_or(""));
                if matches!(class, "22" | "23" | "54") {
                    Self::Refused
                } else {
                    Self::Unavailable
                }
            }
            StoreError::Database(sqlx::Error::Encode(_)) => Self::Refused,
            _ => Self::Unavailable,
        }
    }
}

/// A set-aside event, as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeadLetter {
    pub id: AuditEventId,
    pub tenant_id: TenantId,
    pub at: DateTime<Utc>,
    /// The event as JSON text (see [`insert_dead_letter`]).
    pub event: String,
    /// What Postgres said when it refused the event.
    pub error: String,
    pub set_aside_at: DateTime<Utc>,
}

/// Sets `event` aside with the `error` it was refused with. The event is stored as
/// JSON text, not `jsonb`: serde_json escapes every control character, NUL included,
/// so the text holds no byte a `text` column refuses, whatever the event carried.
/// Idempotent on the event's id, like [`super::insert_audit_events`].
pub async fn insert_dead_letter(
    pool: &PgPool,
    event: &AuditEvent,
    error: &str,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO audit_dead_letter (id, tenant_id, at, event, error) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT ON CONSTRAINT audit_dead_letter_pkey DO NOTHING",
    )
    .bind(event.id)
    .bind(event.tenant_id)
    .bind(event.at)
    .bind(text)
    .bind(storable_text(error).as_ref())
    .execute(pool)
    .await?;
    Ok(())
}

/// The tenant's set-aside events, newest first; `limit` at most.
pub async fn dead_letters(
    pool: &PgPool,
    tenant: TenantId,
    limit: i64,
) -> Result<Vec<DeadLetter>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, at, event, error, set_aside_at FROM audit_dead_letter \
         WHERE tenant_id = $1 ORDER BY set_aside_at DESC, id DESC LIMIT $2",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
