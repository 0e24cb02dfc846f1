//! The identity providers' signing keys, cached per JWKS URL.
//!
//! Every SSO callback needs the issuer's JWKS; fetching it each time costs a round trip
//! to the provider per sign-in and fails every sign-in while the provider's key endpoint
//! is slow. Keys are kept for the lifetime the provider's `Cache-Control: max-age` gives
//! them (five minutes without one, at most an hour, not at all with `no-store` or
//! `no-cache`). A token whose `kid` the cached set lacks (the provider rotated its keys)
//! makes one refetch before it is refused. That refetch needs no limit of its own: it
//! happens only after a code exchange the provider itself accepted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcpgate_auth::{IdTokenError, JwkSet};

use super::provider::{self, Provider};
use super::SsoRefusal;

/// How long keys are kept when the provider says nothing.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);
/// The longest a provider's `max-age` is honoured: a rotation that removes a
/// compromised key is seen within it.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(60 * 60);
/// JWKS URLs remembered at most (one per configured provider in practice).
const MAX_ENTRIES: usize = 1024;

/// How long a JWKS answer may be used, from its `Cache-Control` header.
pub(crate) fn ttl_from_cache_control(header: Option<&str>) -> Duration {
    let Some(header) = header else {
        return DEFAULT_TTL;
    };
    let mut max_age = None;
    for directive in header
        .split(',')
        .map(|part| part.trim().to_ascii_lowercase())
    {
        if directive == "no-store" || directive == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            max_age = seconds.trim_matches('"').parse::<u64>().ok();
        }
    }
    max_age.map_or(DEFAULT_TTL, |seconds| {
        Duration::from_secs(seconds).min(MAX_TTL)
    })
}

#[derive(Debug, Clone)]
struct Cached {
    keys: Arc<JwkSet>,
    fresh_until: Instant,
}

/// The cache, shared by every request of the API process.
#[derive(Debug, Default)]
pub(crate) struct JwksCache {
    entries: Mutex<HashMap<String, Cached>>,
}

impl JwksCache {
    /// Runs `verify` with the provider's keys: the cached ones while fresh, else a new
    /// fetch; if the cached keys lack the token's key, once more with a new fetch.
    pub(crate) async fn verify<T>(
        &self,
        client: &reqwest::Client,
        provider: &Provider,
        now: Instant,
        verify: impl Fn(&JwkSet) -> Result<T, IdTokenError>,
    ) -> Result<T, SsoRefusal> {
        if let Some(cached) = self.fresh(&provider.jwks_uri, now) {
            match verify(&cached) {
                Err(IdTokenError::UnknownKey) => {}
                decided => return decided.map_err(SsoRefusal::from),
            }
        }
        let keys = self.fetch(client, provider, now).await?;
        verify(&keys).map_err(SsoRefusal::from)
    }

    fn fresh(&self, jwks_uri: &str, now: Instant) -> Option<Arc<JwkSet>> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        entries
            .get(jwks_uri)
            .filter(|cached| now < cached.fresh_until)
            .map(|cached| Arc::clone(&cached.keys))
    }

    async fn fetch(
        &self,
        client: &reqwest::Client,
        provider: &Provider,
        now: Instant,
    ) -> Result<Arc<JwkSet>, SsoRefusal> {
        let (keys, cache_control) = provider::keys(client, provider).await?;
        let keys = Arc::new(keys);
        let ttl = ttl_from_cache_control(cache_control.as_deref());
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if ttl.is_zero() {
            entries.remove(&provider.jwks_uri);
        } else {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&provider.jwks_uri) {
                entries.retain(|_, cached| now < cached.fresh_until);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(
                provider.jwks_uri.clone(),
                Cached {
                    keys: Arc::clone(&keys),
                    fresh_until: now + ttl,
                },
            );
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests;
