use std::time::Duration;

/// What the store can fail with. Callers map it to their own answers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or belongs to another tenant, which callers must
    /// not be able to tell apart).
    #[error("not found")]
    NotFound,
    /// A uniqueness or integrity rule refused the write; `constraint` names it.
    #[error("conflict with existing data ({constraint})")]
    Conflict {
        /// The database constraint that refused the write.
        constraint: String,
    },
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A migration failed to apply.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Redis could not be reached or answered with an error.
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// A connection URL is malformed.
    #[error("invalid {what} URL: {reason}")]
    InvalidUrl {
        /// Which URL.
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// TLS with Redis cannot work as configured: an unusable CA file, or a server
    /// certificate the trusted CAs did not sign.
    #[error("Redis TLS: {reason}")]
    RedisTls {
        /// What is wrong, and what to change.
        reason: String,
    },
    /// A dependency did not answer in time.
    #[error("{what} did not answer within {after:?}")]
    Timeout {
        /// What we waited for.
        what: &'static str,
        /// How long we waited.
        after: Duration,
    },
    /// Stored data could not be read back (a bug or manual tampering).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db)
                if db.is_unique_violation()
                    || db.is_foreign_key_violation()
                    || db.is_check_violation() =>
            {
                StoreError::Conflict {
                    constraint: db.constraint().unwrap_or("unknown").to_owned(),
                }
            }
            _ => StoreError::Database(error),
        }
    }
}
