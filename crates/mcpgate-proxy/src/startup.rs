//! Building the proxy service: bind the listener (port 0 in tests), assemble the
//! router and the background tasks, serve until told to stop, then drain.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use mcpgate_service::{health_router, with_common_layers, Readiness};
use mcpgate_store::{PgPool, Redis};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::approval::Waiters;
use crate::audit::{self, WriterSettings};
use crate::cache::{sync, Cache};
use crate::drift::Drift;
use crate::limiter::Limiter;
use crate::loop_guard::{self, LoopGuard};
use crate::metrics::Metrics;
use crate::origin::AllowedOrigins;
use crate::protected_resource::Challenge;
use crate::serving::Serving;
use crate::session;
use crate::settings::ProxySettings;
use crate::slots::Slots;
use crate::state::{AppState, Shared};
use crate::tasks::TaskBindings;
use crate::token_cache::TokenCache;
use mcpgate_auth::CredentialsKey;
use mcpgate_upstream::AddressPolicy;

/// How long shutdown waits for the audit writer to drain.
const DRAIN_PATIENCE: Duration = Duration::from_secs(15);

/// What the proxy needs from outside.
#[derive(Debug, Clone)]
pub struct ProxyDeps {
    /// The control plane's database, read when (re)loading servers, policies and grants.
    pub db: PgPool,
    /// Redis: rate-limit counters and change notifications.
    pub redis: Redis,
}

/// A bound, ready-to-run proxy. Background tasks (change stream, resync, audit writer)
/// start in `build` and stop in `run`.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    /// What every serving thread's state is made from ([`Shared::for_this_thread`]).
    state: AppState,
    resources: crate::protected_resource::Resources,
    readiness: Readiness,
    stop_background: CancellationToken,
    stop_audit: CancellationToken,
    audit_writer: JoinHandle<()>,
    /// Cancelled when the shutdown signal fires (also ends open GET streams).
    shutting_down: CancellationToken,
    drain_timeout: Duration,
}

/// Why the proxy could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The listener could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The upstream HTTP client could not be built.
    #[error("building the upstream HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The audit spool directory could not be made or locked.
    #[error("opening the audit spool under {} (MCPGATE_PROXY_AUDIT_SPOOL_DIR): {source}", dir.display())]
    AuditSpool {
        /// The spool root.
        dir: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl From<BuildError> for std::io::Error {
    fn from(error: BuildError) -> Self {
        std::io::Error::other(error.to_string())
    }
}

impl Application {
    /// Binds the listener, assembles the router and starts the background tasks.
    pub async fn build(settings: ProxySettings, deps: ProxyDeps) -> Result<Self, BuildError> {
        let addr = settings.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| BuildError::Bind { addr, source })?;
        Self::build_on(listener, settings, deps).await
    }

    /// [`Application::build`] on a listener bound already (`settings.listen` only names
    /// it in errors): for a test whose public URL must name the port.
    pub async fn build_on(
        listener: TcpListener,
        settings: ProxySettings,
        deps: ProxyDeps,
    ) -> Result<Self, BuildError> {
        let addr = settings.listen;
        // An upstream that is this proxy (or the API) would loop: refused at load and
        // at connect time, whatever `allow_private_upstreams` says.
        let mut own = settings.refused_upstreams.clone();
        own.add_listen(
            listener
                .local_addr()
                .map_err(|source| BuildError::Bind { addr, source })?,
        )
        .add_url(&settings.public_url);
        let address_policy = AddressPolicy::new(settings.allow_private_upstreams).refusing_own(own);
        // No overall timeout: streams last as long as the session. The client checks
        // every connection's address and marks each request with the hop header.
        let http = mcpgate_upstream::upstream_client(address_policy.clone(), loop_guard::HOP_VALUE)
            .connect_timeout(settings.upstream_connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        let relay = mcpgate_upstream::RelayClient::new(
            address_policy.clone(),
            loop_guard::HOP_VALUE,
            mcpgate_upstream::RelayClientSettings {
                connect_timeout: settings.upstream_connect_timeout,
                pool_idle_timeout: Duration::from_secs(90),
            },
        );
        // A pool of the proxy's own, on the caller's settings: a connection a serving
        // thread opens is driven by that thread's runtime and dies with it at shutdown, so
        // it must not go back to a pool the caller keeps using (the API's, under `up`).
        let db = deps
            .db
            .options()
            .clone()
            .connect_lazy_with((*deps.db.connect_options()).clone());
        let metrics = Arc::new(Metrics::default());
        let cache = Arc::new(Cache::new(
            db.clone(),
            CredentialsKey::new(&settings.secret_key),
            address_policy,
        ));
        let stop_background = CancellationToken::new();
        let stop_audit = CancellationToken::new();
        let (audit, audit_writer) = audit::start(
            db.clone(),
            WriterSettings {
                capacity: settings.audit_queue_capacity,
                batch_size: settings.audit_batch_size,
                flush_interval: settings.audit_flush_interval,
            },
            settings.audit_spool_dir.as_deref(),
            Arc::clone(&metrics),
            stop_audit.clone(),
            stop_background.clone(),
        )
        .map_err(|source| BuildError::AuditSpool {
            dir: settings.audit_spool_dir.clone().unwrap_or_default(),
            source,
        })?;
        let approvals = Arc::new(Waiters::default());
        tokio::spawn(sync::follow_changes(
            Arc::clone(&cache),
            Arc::clone(&approvals),
            deps.redis.clone(),
            stop_background.clone(),
        ));
        tokio::spawn(sync::resync_periodically(
            Arc::clone(&cache),
            settings.resync_interval,
            stop_background.clone(),
        ));
        let shutting_down = CancellationToken::new();
        let drain_timeout = settings.drain_timeout;
        let resources = crate::protected_resource::Resources::new(
            &settings.public_url,
            settings.authorization_server.as_deref(),
        );
        let session_key = Arc::new(session::key(&settings.secret_key));
        let state = AppState(Arc::new(Shared {
            verify_key: settings.grant_verify_key.clone(),
            tokens: Arc::new(TokenCache::new(settings.token_cache_entries)),
            secret_key: Arc::clone(&session_key),
            session_ids: Arc::new(session::OpenedIds::new(session_key, session::OPENED_IDS)),
            limiter: Arc::new(Limiter::new(deps.redis.clone(), settings.limiter_timeout)),
            drift: Arc::new(Drift::new(deps.redis.clone())),
            tasks: TaskBindings::new(deps.redis.clone(), settings.limiter_timeout),
            redis: deps.redis.clone(),
            slots: Slots::new(
                settings.max_held_calls_per_grant,
                settings.max_streams_per_grant,
            ),
            origins: AllowedOrigins::new(&settings.public_url),
            resources: resources.clone(),
            approvals,
            legacy: Default::default(),
            shutdown: shutting_down.clone(),
            settings,
            cache,
            audit,
            metrics,
            http,
            relay,
        }));
        let readiness = Readiness::new(Some(db), Some(deps.redis.clone()), Duration::from_secs(2));
        Ok(Self {
            listener,
            state,
            resources,
            readiness,
            stop_background,
            stop_audit,
            audit_writer,
            shutting_down,
            drain_timeout,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; then stops accepting connections, ends open GET
    /// streams (clients reconnect to another replica), lets in-flight requests finish for
    /// up to `drain_timeout` (then cuts them), and writes every queued audit event before
    /// returning.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self {
            mut listener,
            state,
            resources,
            readiness,
            stop_background,
            stop_audit,
            audit_writer,
            shutting_down,
            drain_timeout,
        } = self;
        let local = listener.local_addr()?;
        let threads = state.settings.serving_threads;
        tracing::info!(addr = %local, threads, "proxy listening");
        let signalled = shutting_down.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections, draining in-flight requests");
            signalled.cancel();
        });
        let service = move || {
            let (base, resources, readiness) =
                (state.clone(), resources.clone(), readiness.clone());
            async move {
                let state = AppState(Arc::new(base.for_this_thread().await));
                router(state, resources, readiness)
            }
        };
        let mut serving = Serving::start(threads, local, service, &shutting_down, drain_timeout)?;
        let accepted = serving.accept(&mut listener, &shutting_down).await;
        // No new connection: clients go to another replica.
        drop(listener);
        if accepted.is_err() {
            shutting_down.cancel();
        }
        let served = serving.served().await;
        stop_background.cancel();
        stop_audit.cancel();
        if tokio::time::timeout(DRAIN_PATIENCE, audit_writer)
            .await
            .is_err()
        {
            tracing::error!("the audit queue did not drain in time");
        }
        serving.release();
        accepted.and(served)
    }
}

/// What a serving thread serves: the MCP routes, the protected resource's metadata,
/// `/metrics` and the health checks, in one stack around the whole router (not
/// `Router::layer`, which wraps and boxes per route), of plain services (not `from_fn`,
/// which boxes per request): the loop guard first, the protected resource's challenge,
/// then the common layers.
fn router(
    state: AppState,
    resources: crate::protected_resource::Resources,
    readiness: Readiness,
) -> Router {
    let router = Router::new()
        .merge(crate::mcp::router(state.clone()))
        .merge(crate::protected_resource::router(resources.clone()))
        .route("/metrics", get(metrics_text).with_state(state))
        .merge(health_router(readiness));
    with_common_layers(LoopGuard(Challenge {
        inner: router,
        resources: Arc::new(resources),
    }))
}

/// `/metrics`, behind `metrics_token` when one is set (the proxy port is public).
async fn metrics_text(State(state): State<AppState>, headers: http::HeaderMap) -> Response {
    if let Some(expected) = &state.settings.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let matches = presented.is_some_and(|token| {
            use sha2::Digest;
            // Compared as digests, so the time taken says nothing about the token.
            sha2::Sha256::digest(token.as_bytes()) == sha2::Sha256::digest(expected.as_bytes())
        });
        if !matches {
            let body = mcpgate_mcp::error_response(
                None,
                mcpgate_mcp::INVALID_REQUEST,
                "/metrics needs the metrics token: send `Authorization: Bearer <token>`",
                None,
            );
            return (
                http::StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response();
        }
    }
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(state.audit.depth()),
    )
        .into_response()
}
