//! Password hashing with a bound on the work done at once.
//!
//! An argon2id hash or check takes 19 MiB and tens of milliseconds of a core (see
//! `mcpgate_auth::hash_password`). Unbounded, a few dozen parallel sign-ups or logins
//! exhaust the API's memory. So hashing runs on the blocking pool behind a semaphore
//! sized to the cores (`MCPGATE_API_PASSWORD_HASH_CONCURRENCY`), and a request that
//! cannot get a permit within a short wait is answered 503 with `Retry-After` rather
//! than queued: the queue itself would be the unbounded part.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// How long a request waits for a hashing permit by default before its 503.
pub const DEFAULT_PASSWORD_HASH_WAIT: Duration = Duration::from_millis(250);

/// What a busy answer asks the client to wait, in seconds.
const RETRY_AFTER_SECS: u64 = 1;

/// The hashing permits, shared by every request; cheap to clone.
#[derive(Debug, Clone)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl PasswordHashing {
    /// At most `concurrency` (at least one) hashes at once; a request waits at most `wait`.
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            wait,
        }
    }

    /// The argon2id hash of a new password (validate it first).
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit: OwnedSemaphorePermit = permit;
            mcpgate_auth::hash_password(&password)
        })
        .await
        .map_err(|error| ApiError::Internal(error.into()))?
        .map_err(|error| ApiError::Internal(error.into()))
    }

    /// Whether `password` matches `stored`. With no stored hash (no such account) a
    /// fixed hash is checked instead, so the answer takes as long either way and
    /// timing does not tell which emails have accounts.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit: OwnedSemaphorePermit = permit;
            match stored {
                Some(hash) => mcpgate_auth::verify_password(&password, &hash),
                None => {
                    mcpgate_auth::verify_password(&password, unknown_user_hash());
                    false
                }
            }
        })
        .await
        .map_err(|error| ApiError::Internal(error.into()))
    }

    /// A permit within the wait, or the 503.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let acquire = Arc::clone(&self.permits).acquire_owned();
        match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; treat it like a full one all the same.
            Ok(Err(_)) | Err(_) => Err(ApiError::Busy {
                retry_after_secs: RETRY_AFTER_SECS,
            }),
        }
    }
}

/// Made once, on the blocking pool like every other hash.
fn unknown_user_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        mcpgate_auth::hash_password("no account has this password").unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_semaphore_answers_busy_within_the_wait_instead_of_queueing() {
        let hashing = PasswordHashing::new(1, Duration::from_millis(20));
        let held = Arc::clone(&hashing.permits).acquire_owned().await.unwrap();
        let started = std::time::Instant::now();
        let error = hashing.hash("0123456789".into()).await.unwrap_err();
        assert!(
            matches!(
                error,
                ApiError::Busy {
                    retry_after_secs: 1
                }
            ),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(held);
        let hash = hashing.hash("0123456789".into()).await.unwrap();
        assert!(hashing
            .verify("0123456789".into(), Some(hash))
            .await
            .unwrap());
        assert!(!hashing.verify("0123456789".into(), None).await.unwrap());
    }
}
