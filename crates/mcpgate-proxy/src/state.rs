//! What every request handler shares.

use std::sync::Arc;

use mcpgate_auth::{GrantVerifyKey, SecretKey};
use tokio_util::sync::CancellationToken;

use crate::approval::Waiters;
use crate::audit::AuditQueue;
use crate::cache::Cache;
use crate::drift::Drift;
use crate::limiter::Limiter;
use crate::mcp::legacy::LegacySessions;
use crate::metrics::Metrics;
use crate::origin::AllowedOrigins;
use crate::settings::ProxySettings;
use crate::slots::Slots;
use crate::tasks::TaskBindings;
use crate::token_cache::TokenCache;

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub(crate) struct AppState(pub(crate) Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: ProxySettings,
    pub(crate) verify_key: GrantVerifyKey,
    /// Tokens whose signature was already checked.
    pub(crate) tokens: Arc<TokenCache>,
    /// Seals and opens client session ids: the session key derived from
    /// `MCPGATE_SECRET_KEY` ([`crate::session::key`]), never the key itself.
    pub(crate) secret_key: Arc<SecretKey>,
    /// Client session ids already opened with `secret_key`.
    pub(crate) session_ids: Arc<crate::session::OpenedIds>,
    pub(crate) cache: Arc<Cache>,
    /// Per serving thread, on its own Redis connection ([`Shared::for_this_thread`]); its
    /// health (Redis down or up) is the process's.
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) audit: AuditQueue,
    pub(crate) metrics: Arc<Metrics>,
    /// The client for requests the proxy makes itself (OAuth token refreshes).
    pub(crate) http: reqwest::Client,
    /// One pooled client for every upstream: every proxied message goes through it. Per
    /// serving thread, each with its own pool.
    pub(crate) relay: mcpgate_upstream::RelayClient,
    pub(crate) origins: AllowedOrigins,
    /// The proxy URLs as OAuth protected resources (access tokens' audience).
    pub(crate) resources: crate::protected_resource::Resources,
    /// Legacy HTTP+SSE streams open in this process.
    pub(crate) legacy: Arc<LegacySessions>,
    /// Asks the control plane for re-syncs when listed tools drift.
    pub(crate) drift: Arc<Drift>,
    /// What each grant holds open (held calls, streams), capped.
    pub(crate) slots: Arc<Slots>,
    /// Redis, for what replicas share besides counters (bridged sessions). Per serving
    /// thread, like the task bindings.
    pub(crate) redis: mcpgate_store::Redis,
    /// Which grant created each task the proxy relayed.
    pub(crate) tasks: TaskBindings,
    /// Held calls waiting for a decision.
    pub(crate) approvals: Arc<Waiters>,
    /// Cancelled when shutdown begins: open GET streams end so clients reconnect elsewhere.
    pub(crate) shutdown: CancellationToken,
}

impl Shared {
    /// This state for a serving thread ([`crate::serving`]), called on its runtime: a
    /// Redis connection opened there, with the limiter and task bindings on it, and an
    /// upstream pool of its own, so nothing a call waits for answers on another thread.
    /// Everything else is this state's, shared.
    pub(crate) async fn for_this_thread(&self) -> Shared {
        let redis = match self.redis.for_this_runtime().await {
            Ok(redis) => redis,
            Err(error) => {
                // The shared connection still works (its answers wake another thread).
                tracing::warn!(%error, "opening a serving thread's Redis connection; sharing the first");
                self.redis.clone()
            }
        };
        let timeout = self.settings.limiter_timeout;
        Shared {
            settings: self.settings.clone(),
            verify_key: self.verify_key.clone(),
            tokens: Arc::clone(&self.tokens),
            secret_key: Arc::clone(&self.secret_key),
            session_ids: Arc::clone(&self.session_ids),
            cache: Arc::clone(&self.cache),
            limiter: Arc::new(self.limiter.on_connection(redis.clone())),
            audit: self.audit.clone(),
            metrics: Arc::clone(&self.metrics),
            http: self.http.clone(),
            relay: self.relay.with_own_pool(),
            origins: self.origins.clone(),
            resources: self.resources.clone(),
            legacy: Arc::clone(&self.legacy),
            drift: Arc::clone(&self.drift),
            slots: Arc::clone(&self.slots),
            tasks: TaskBindings::new(redis.clone(), timeout),
            redis,
            approvals: Arc::clone(&self.approvals),
            shutdown: self.shutdown.clone(),
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
