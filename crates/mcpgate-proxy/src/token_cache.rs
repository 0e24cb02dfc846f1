//! Grant tokens already verified, so the Ed25519 check (50–90 µs here) runs once per
//! token rather than once per request.
//!
//! Only what the token itself proves is cached: signature, issuer, audience and claims.
//! Everything that can change after issue (revocation, rotation, scope, the grant's
//! expiry) is still checked against the grant cache on every request, and a token's own
//! `exp` is honoured on every hit. Failed verifications are not cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use mcpgate_auth::{GrantClaims, GrantVerifyKey, TokenError, GRANT_TOKEN_LEEWAY_SECONDS};
use sha2::{Digest, Sha256};

/// Verified tokens by the SHA-256 of their text, bounded.
#[derive(Debug)]
pub(crate) struct TokenCache {
    verified: RwLock<HashMap<[u8; 32], Arc<GrantClaims>>>,
    capacity: usize,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            verified: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// The token's claims: from the cache if it was verified before and has not expired
    /// since, else from a full verification (whose success is remembered).
    pub(crate) fn verify(
        &self,
        key: &GrantVerifyKey,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<GrantClaims>, TokenError> {
        if self.capacity == 0 {
            return key.verify(token, now).map(Arc::new);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let hit = read(&self.verified).get(&digest).cloned();
        if let Some(claims) = hit {
            if !expired(&claims, now) {
                return Ok(claims);
            }
            write(&self.verified).remove(&digest);
        }
        let claims = Arc::new(key.verify(token, now)?);
        self.remember(digest, Arc::clone(&claims), now);
        Ok(claims)
    }

    /// Stores a verified token. When full, expired entries go first; if that frees
    /// nothing, everything goes (a full re-verification per token is the worst case, and
    /// only after `capacity` distinct tokens, which a real deployment rarely sees).
    fn remember(&self, digest: [u8; 32], claims: Arc<GrantClaims>, now: DateTime<Utc>) {
        let mut verified = write(&self.verified);
        if verified.len() >= self.capacity {
            verified.retain(|_, claims| !expired(claims, now));
            if verified.len() >= self.capacity {
                tracing::info!(
                    entries = verified.len(),
                    "the token verification cache is full; starting afresh"
                );
                verified.clear();
            }
        }
        verified.insert(digest, claims);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        read(&self.verified).len()
    }
}

/// The same rule as [`GrantVerifyKey::verify`]: refused on or after `exp` + leeway.
fn expired(claims: &GrantClaims, now: DateTime<Utc>) -> bool {
    claims.expires_at.is_some_and(|exp| {
        now.timestamp() >= exp.timestamp().saturating_add(GRANT_TOKEN_LEEWAY_SECONDS)
    })
}

// A poisoned lock only means a panic elsewhere during an insert: the map is intact.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use mcpgate_auth::{GrantSigningKey, ServerScope};
    use uuid::Uuid;

    use super::*;

    fn token(key: &GrantSigningKey, expires: Option<DateTime<Utc>>) -> String {
        let claims = GrantClaims::new(
            Uuid::new_v4(),
            Uuid::new_v4(),
            ServerScope::All,
            1,
            Utc::now(),
            expires,
        );
        key.issue(&claims)
    }

    #[test]
    fn a_cached_token_still_expires() {
        let signing = GrantSigningKey::generate();
        let cache = TokenCache::new(10);
        let now = Utc::now();
        let token = token(&signing, Some(now + Duration::seconds(60)));
        assert!(cache.verify(&signing.verify_key(), &token, now).is_ok());
        assert_eq!(cache.len(), 1);
        assert!(cache
            .verify(&signing.verify_key(), &token, now + Duration::seconds(60))
            .is_ok());
        let late = now + Duration::seconds(60 + GRANT_TOKEN_LEEWAY_SECONDS);
        assert!(matches!(
            cache.verify(&signing.verify_key(), &token, late),
            Err(TokenError::Expired)
        ));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_bad_token_is_never_cached_and_the_cache_stays_bounded() {
        let signing = GrantSigningKey::generate();
        let other = GrantSigningKey::generate();
        let cache = TokenCache::new(3);
        let forged = token(&other, None);
        assert!(cache
            .verify(&signing.verify_key(), &forged, Utc::now())
            .is_err());
        assert_eq!(cache.len(), 0);
        for _ in 0..7 {
            let token = token(&signing, None);
            cache
                .verify(&signing.verify_key(), &token, Utc::now())
                .unwrap();
            assert!(cache.len() <= 3);
        }
    }

    /// A hit skips the Ed25519 check (50–90 µs here; `scripts/bench.sh --instructions`
    /// measures the hot path instead of a timed test): the same token, presented again,
    /// is answered from the cache even by a key that could not verify it.
    #[test]
    fn a_cached_token_is_not_verified_again() {
        let signing = GrantSigningKey::generate();
        let stranger = GrantSigningKey::generate().verify_key();
        let cache = TokenCache::new(100);
        let token = token(&signing, None);
        let now = Utc::now();
        assert!(stranger.verify(&token, now).is_err(), "precondition");
        cache.verify(&signing.verify_key(), &token, now).unwrap();
        assert!(cache.verify(&stranger, &token, now).is_ok());
        assert_eq!(cache.len(), 1);
    }
}
