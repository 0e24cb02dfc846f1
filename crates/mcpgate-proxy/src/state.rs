//! What every request handler shares.

use std::sync::Arc;

use mcpgate_auth::{GrantVerifyKey, SecretKey};

use crate::audit::AuditQueue;
use crate::cache::Cache;
use crate::limiter::Limiter;
use crate::metrics::Metrics;
use crate::origin::AllowedOrigins;
use crate::settings::ProxySettings;

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub(crate) struct AppState(pub(crate) Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: ProxySettings,
    pub(crate) verify_key: GrantVerifyKey,
    pub(crate) secret_key: Arc<SecretKey>,
    pub(crate) cache: Arc<Cache>,
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) audit: AuditQueue,
    pub(crate) metrics: Arc<Metrics>,
    /// One pooled client for every upstream.
    pub(crate) http: reqwest::Client,
    pub(crate) origins: AllowedOrigins,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
