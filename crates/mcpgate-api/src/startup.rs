//! Building the API service: bind the listener (port 0 in tests), assemble the
//! router, serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use mcpgate_auth::{CredentialsKey, GrantSigningKey, SecretKey};
use mcpgate_service::{health_router, with_common_layers, Readiness};
use mcpgate_store::audit::AuditRetention;
use mcpgate_store::{PgPool, Redis};
use mcpgate_upstream::{AddressPolicy, OwnAddresses};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::client_address::TrustedProxies;
use crate::export::ExportSettings;
use crate::oauth_server::{ClientDirectory, OAuthServer};
use crate::passwords::PasswordHashing;
use crate::resync::ResyncSettings;
use crate::state::{AppState, Keys, PublicUrls};

/// Request bodies larger than this are refused with 413. Policies are the largest
/// bodies we take; a megabyte is generous for them.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How often every server's tools are re-discovered by default.
pub const DEFAULT_CATALOG_RESYNC_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// The least time between two automatic re-syncs of one server by default.
pub const DEFAULT_CATALOG_RESYNC_COOLDOWN: Duration = Duration::from_secs(30);

/// The API service's settings.
#[derive(Debug)]
pub struct ApiSettings {
    /// Where to listen (API and dashboard).
    pub listen: SocketAddr,
    /// The proxy's public base URL, shown to users in proxy URLs and snippets.
    pub public_proxy_url: String,
    /// The dashboard's public base URL (https makes cookies `Secure`).
    pub public_api_url: String,
    /// Allow upstream servers on loopback and private networks (local development).
    pub allow_private_upstreams: bool,
    /// Other addresses of this deployment an upstream may not point at (the proxy's
    /// listen address). Both public URLs and the API's bound address are always refused.
    pub refused_upstreams: OwnAddresses,
    /// Password hashes (argon2id, 19 MiB each) run at once at most: sign-ups and logins
    /// beyond it wait up to `password_hash_wait`, then get 503 with `Retry-After`.
    pub password_hash_concurrency: usize,
    /// How long a sign-up or login waits for a hashing slot before its 503.
    pub password_hash_wait: Duration,
    /// Proxies whose `X-Forwarded-For` names the client (login rate limit); none by
    /// default, so the peer address is the client.
    pub trusted_proxies: TrustedProxies,
    /// Signs grant tokens.
    pub grant_signing_key: GrantSigningKey,
    /// Seals upstream credentials at rest.
    pub secret_key: SecretKey,
    /// Every server's tools are re-discovered once per interval, spread over it;
    /// zero turns the periodic re-sync off.
    pub catalog_resync_interval: Duration,
    /// The least time between two automatic re-syncs of one server, across
    /// replicas: a proxy's request (`Change::SyncRequested`) or the periodic one.
    pub catalog_resync_cooldown: Duration,
    /// How long an OAuth access token lasts (`MCPGATE_API_OAUTH_ACCESS_TOKEN_SECONDS`);
    /// revoking the connection ends it sooner.
    pub oauth_access_token_lifetime: Duration,
    /// Upstream OAuth access tokens expiring within this are renewed by a background
    /// task before any call needs it (at most half their lifetime ahead); zero: off,
    /// the proxies refresh when due.
    pub upstream_oauth_refresh_margin: Duration,
    /// How long audit rows are kept and how far ahead their partitions are made.
    pub audit_retention: AuditRetention,
    /// How tenants' audit events are delivered to their SIEM webhooks.
    pub audit_export: ExportSettings,
    /// The SMTP server invitations and password-reset links are mailed through;
    /// `None` mails nothing (links are only shown to the admin who made them).
    pub smtp: Option<crate::mail::SmtpSettings>,
}

/// What the API service needs from outside.
#[derive(Debug, Clone)]
pub struct ApiDeps {
    /// The control plane's database.
    pub db: PgPool,
    /// Redis, for publishing changes to the proxies.
    pub redis: Redis,
}

/// A bound, ready-to-run API service.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    resync: ResyncSettings,
    audit_retention: AuditRetention,
    audit_export: ExportSettings,
    upstream_oauth_refresh_margin: Duration,
}

impl Application {
    /// Binds the listener and assembles the router.
    pub async fn build(settings: ApiSettings, deps: ApiDeps) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.listen).await?;
        Self::build_on(listener, settings, deps).await
    }

    /// [`Application::build`] on a listener bound already (`settings.listen` is not
    /// used): for a test whose public URL must name the port before the API is built.
    pub async fn build_on(
        listener: TcpListener,
        settings: ApiSettings,
        deps: ApiDeps,
    ) -> std::io::Result<Self> {
        let readiness = Readiness::new(
            Some(deps.db.clone()),
            Some(deps.redis.clone()),
            Duration::from_secs(2),
        );
        let own = own_addresses(&settings, listener.local_addr()?);
        let upstreams = AddressPolicy::new(settings.allow_private_upstreams).refusing_own(own);
        let state = AppState {
            db: deps.db,
            redis: deps.redis,
            keys: Arc::new(Keys {
                grant_signing: settings.grant_signing_key,
                credentials: CredentialsKey::new(&settings.secret_key),
            }),
            urls: Arc::new(PublicUrls {
                proxy: settings.public_proxy_url.trim_end_matches('/').to_owned(),
                api: settings.public_api_url.trim_end_matches('/').to_owned(),
            }),
            upstreams: upstreams.clone(),
            passwords: PasswordHashing::new(
                settings.password_hash_concurrency,
                settings.password_hash_wait,
            ),
            trusted_proxies: Arc::new(settings.trusted_proxies),
            oauth: Arc::new(OAuthServer {
                clients: ClientDirectory::new(upstreams.clone(), settings.allow_private_upstreams),
                access_token_lifetime: settings.oauth_access_token_lifetime,
            }),
            sso_keys: Arc::default(),
            mailer: settings
                .smtp
                .as_ref()
                .map(crate::mail::Mailer::new)
                .transpose()
                .map_err(std::io::Error::other)?,
        };
        let router = Router::new()
            .nest(
                "/api/v1",
                crate::routes::router()
                    .into_router()
                    .with_state(state.clone()),
            )
            .merge(crate::dashboard::serve(crate::dashboard::router()).with_state(state.clone()))
            .merge(
                crate::oauth_server::router()
                    .into_router()
                    .with_state(state.clone()),
            )
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .merge(health_router(readiness));
        Ok(Self {
            listener,
            router: with_common_layers(router),
            state,
            resync: ResyncSettings {
                interval: settings.catalog_resync_interval,
                cooldown: settings.catalog_resync_cooldown,
            },
            audit_retention: settings.audit_retention,
            audit_export: settings.audit_export,
            upstream_oauth_refresh_margin: settings.upstream_oauth_refresh_margin,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves, and runs the automatic catalogue re-syncs, until `shutdown`
    /// resolves; then stops the re-syncs and finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "API and dashboard listening");
        let stop = CancellationToken::new();
        let mut background = vec![crate::maintenance::spawn(
            self.state.db.clone(),
            self.audit_retention,
            stop.clone(),
        )];
        background.extend(
            crate::export::spawn(self.state.clone(), self.audit_export, stop.clone())
                .map_err(std::io::Error::other)?,
        );
        background.extend(crate::oauth_refresh::spawn(
            self.state.clone(),
            self.upstream_oauth_refresh_margin,
            stop.clone(),
        ));
        background.extend(crate::resync::spawn(self.state, self.resync, stop.clone()));
        let stopping = stop.clone();
        // The peer address keys the dashboard's login rate limit.
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.cancel();
        })
        .await;
        stop.cancel();
        for task in background {
            if let Err(error) = task.await {
                tracing::warn!(%error, "a background task (re-sync, audit upkeep or export) ended abnormally");
            }
        }
        served
    }
}

/// The addresses that are this deployment: an upstream there would loop.
fn own_addresses(settings: &ApiSettings, bound: SocketAddr) -> OwnAddresses {
    let mut own = settings.refused_upstreams.clone();
    own.add_listen(bound)
        .add_url(&settings.public_api_url)
        .add_url(&settings.public_proxy_url);
    own
}
