//! The proxy's settings: what the binary (from its config) and the test kit pass in.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mcpgate_auth::{GrantVerifyKey, SecretKey};
use mcpgate_upstream::OwnAddresses;

/// The proxy service's settings. Build with [`ProxySettings::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The URL agents reach the proxy at (`MCPGATE_PUBLIC_PROXY_URL`); its origin is the
    /// only `Origin` accepted, besides any loopback origin when it is itself loopback.
    pub public_url: String,
    /// Verifies grant tokens (the public half of the API's signing key).
    pub grant_verify_key: GrantVerifyKey,
    /// The OAuth authorization server of the proxy URLs: the issuer the API serves
    /// (`MCPGATE_PUBLIC_API_URL`, as the API's metadata spells it). When set, every proxy URL
    /// serves Protected Resource Metadata naming it and every 401 points there; `None`
    /// serves neither (grant tokens only).
    pub authorization_server: Option<String>,
    /// Opens the servers' sealed upstream headers and seals the proxy's session ids.
    pub secret_key: Arc<SecretKey>,
    /// Whether upstreams on loopback, private and link-local addresses may be reached.
    /// Tests and single-host setups set it; see the README.
    pub allow_private_upstreams: bool,
    /// Other addresses of this deployment an upstream may not point at (the API's public
    /// URL and listen address). The proxy's own public URL and bound address are always
    /// refused, whatever `allow_private_upstreams` says: an upstream that is the proxy
    /// loops.
    pub refused_upstreams: OwnAddresses,
    /// The largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// The largest upstream answer the proxy reads whole (a JSON body it filters or
    /// checks) and the largest single SSE event it parses; past it the answer ends with a
    /// JSON-RPC error and the call's reservation is kept.
    pub max_upstream_message_bytes: usize,
    /// The most messages one JSON-RPC batch may hold (each is enforced and audited).
    pub max_batch_messages: usize,
    /// Calls of one grant held for approval at once in this process; past it a call
    /// that needs approval is refused.
    pub max_held_calls_per_grant: usize,
    /// Long-lived streams (GET stream, legacy SSE) one grant keeps open at once in this
    /// process; past it a new one is refused with 429.
    pub max_streams_per_grant: usize,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// How long a client may take to send its request body (408 after it).
    pub body_read_timeout: Duration,
    /// How long connecting to an upstream may take.
    pub upstream_connect_timeout: Duration,
    /// How long an upstream may take to send its response headers.
    pub upstream_response_timeout: Duration,
    /// How long one rate-limit reservation in Redis may take before the limiter counts as down.
    pub limiter_timeout: Duration,
    /// How often loaded servers and grants are re-read, to heal a missed change message.
    pub resync_interval: Duration,
    /// How often queued audit events are written.
    pub audit_flush_interval: Duration,
    /// Audit events written per statement at most.
    pub audit_batch_size: usize,
    /// Audit events queued at most; beyond it events are dropped and counted.
    pub audit_queue_capacity: usize,
    /// Where queued audit events are journaled before the call is answered, so a process
    /// that dies without draining loses none; proxies sharing it take over a stopped
    /// one's journal. `None`: queued events live in memory only until written.
    pub audit_spool_dir: Option<std::path::PathBuf>,
    /// How often a held call's open stream gets an SSE comment, so intermediaries do not
    /// close it as idle.
    pub approval_keep_alive: Duration,
    /// How often a held call reads its approval row, in case the change message that
    /// announces the decision is lost or the decision came through another replica.
    pub approval_poll_interval: Duration,
    /// How long shutdown waits for in-flight requests before cutting them.
    pub drain_timeout: Duration,
    /// Verified grant tokens remembered (by SHA-256) so their signature is checked once;
    /// 0 turns the cache off.
    pub token_cache_entries: usize,
    /// Threads serving connections, each with its own single-threaded runtime, Redis
    /// connection and upstream pool ([`crate::serving`]); one per core by default.
    pub serving_threads: std::num::NonZeroUsize,
}

impl ProxySettings {
    /// Settings with the documented defaults.
    pub fn new(
        listen: SocketAddr,
        public_url: impl Into<String>,
        grant_verify_key: GrantVerifyKey,
        secret_key: Arc<SecretKey>,
    ) -> Self {
        Self {
            listen,
            public_url: public_url.into(),
            grant_verify_key,
            authorization_server: None,
            secret_key,
            allow_private_upstreams: false,
            refused_upstreams: OwnAddresses::new(),
            max_body_bytes: 4 * 1024 * 1024,
            max_upstream_message_bytes: 16 * 1024 * 1024,
            max_batch_messages: 100,
            body_read_timeout: Duration::from_secs(30),
            max_held_calls_per_grant: 20,
            max_streams_per_grant: 50,
            metrics_token: None,
            upstream_connect_timeout: Duration::from_secs(5),
            upstream_response_timeout: Duration::from_secs(120),
            limiter_timeout: Duration::from_millis(250),
            resync_interval: Duration::from_secs(30),
            audit_flush_interval: Duration::from_millis(200),
            audit_batch_size: 500,
            audit_queue_capacity: 50_000,
            audit_spool_dir: None,
            approval_keep_alive: Duration::from_secs(15),
            approval_poll_interval: Duration::from_secs(2),
            drain_timeout: Duration::from_secs(30),
            token_cache_entries: 100_000,
            serving_threads: std::thread::available_parallelism()
                .unwrap_or(std::num::NonZeroUsize::MIN),
        }
    }
}
