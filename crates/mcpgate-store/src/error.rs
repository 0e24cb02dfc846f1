use std::time::Duration;

/// What the store can fail with. Callers map it to their own answers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
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
    /// A dependency did not answer in time.
    #[error("{what} did not answer within {after:?}")]
    Timeout {
        /// What we waited for.
        what: &'static str,
        /// How long we waited.
        after: Duration,
    },
}
