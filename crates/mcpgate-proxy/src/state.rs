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
    pub(crate) tokens: TokenCache,
    /// Seals and opens client session ids: the session key derived from
    /// `MCPGATE_SECRET_KEY` ([`crate::session::key`]), never the key itself.
    pub(crate) secret_key: Arc<SecretKey>,
    /// Client session ids already opened with `secret_key`.
    pub(crate) session_ids: crate::session::OpenedIds,
    pub(crate) cache: Arc<Cache>,
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) audit: AuditQueue,
    pub(crate) metrics: Arc<Metrics>,
    /// The client for requests the proxy makes itself (OAuth token refreshes).
    pub(crate) http: reqwest::Client,
    /// One pooled client for every upstream: every proxied message goes through it.
    pub(crate) relay: mcpgate_upstream::RelayClient,
    pub(crate) origins: AllowedOrigins,
    /// The proxy URLs as OAuth protected resources (access tokens' audience).
    pub(crate) resources: crate::protected_resource::Resources,
    /// Legacy HTTP+SSE streams open in this process.
    pub(crate) legacy: LegacySessions,
    /// Asks the control plane for re-syncs when listed tools drift.
    pub(crate) drift: Arc<Drift>,
    /// What each grant holds open (held calls, streams), capped.
    pub(crate) slots: Arc<Slots>,
    /// Redis, for what replicas share besides counters (bridged sessions).
    pub(crate) redis: mcpgate_store::Redis,
    /// Which grant created each task the proxy relayed.
    pub(crate) tasks: TaskBindings,
    /// Held calls waiting for a decision.
    pub(crate) approvals: Arc<Waiters>,
    /// Cancelled when shutdown begins: open GET streams end so clients reconnect elsewhere.
    pub(crate) shutdown: CancellationToken,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
