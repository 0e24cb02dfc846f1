//! The real API and proxy, on port 0, against a fresh database and Redis.

use std::net::SocketAddr;
use std::time::Duration;

use mcpgate_auth::{GrantSigningKey, SecretKey};
use mcpgate_store::Redis;
use tokio_util::sync::CancellationToken;

use crate::db::{fresh_database, fresh_redis, TestDb, TestRedis};

/// The running product for one test. Dropping it stops both services.
#[derive(Debug)]
pub struct TestApp {
    /// The API and dashboard's address.
    pub api_addr: SocketAddr,
    /// The proxy's address.
    pub proxy_addr: SocketAddr,
    /// The test's database.
    pub db: TestDb,
    /// The test's Redis server (kill it to test failure handling).
    pub redis: TestRedis,
    /// A connection to that Redis.
    pub redis_conn: Redis,
    /// An HTTP client for calling the services.
    pub client: reqwest::Client,
    /// The key the API signs grant tokens with (tests mint their own tokens with it).
    pub grant_signing_key: GrantSigningKey,
    /// The key API and proxy seal stored secrets with.
    pub secret_key: SecretKey,
    stop: CancellationToken,
}

impl TestApp {
    /// `http://<api addr><path>`.
    pub fn api_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api_addr)
    }

    /// `http://<proxy addr><path>`.
    pub fn proxy_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.proxy_addr)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// What a test may change about the app it starts.
#[derive(Debug, Clone, Copy)]
pub struct TestAppOptions {
    /// Allow upstreams on loopback (test upstreams live there); `false` to test
    /// the SSRF guard.
    pub allow_private_upstreams: bool,
    /// The API's periodic catalogue re-sync; off (zero) unless a test turns it on,
    /// so no test sees a server's revision move by itself.
    pub catalog_resync_interval: Duration,
    /// The least time between two automatic re-syncs of one server.
    pub catalog_resync_cooldown: Duration,
    /// Password hashes the API runs at once (generous by default: debug builds hash slowly).
    pub password_hash_concurrency: usize,
    /// How long a sign-up or login waits for a hashing slot before its 503.
    pub password_hash_wait: Duration,
    /// Networks whose `X-Forwarded-For` the API believes (CIDRs); none by default.
    pub trusted_proxies: &'static [&'static str],
    /// How long an OAuth access token lasts (short, to test refresh and expiry).
    pub oauth_access_token_lifetime: Duration,
    /// The API's renewal of upstream OAuth tokens ahead of expiry; off (zero) unless a
    /// test turns it on, so the proxies' own refresh is what other tests measure.
    pub upstream_oauth_refresh_margin: Duration,
    /// The SIEM export's delivery: quick polls and retries, so tests wait little.
    pub audit_export: mcpgate_api::ExportSettings,
    /// An SMTP receiver (`smtp://` without TLS) the API mails invitations and
    /// password-reset links to, from `mcpgate@example.com`; none by default.
    pub smtp_server: Option<SocketAddr>,
}

impl Default for TestAppOptions {
    fn default() -> Self {
        Self {
            allow_private_upstreams: true,
            catalog_resync_interval: Duration::ZERO,
            catalog_resync_cooldown: mcpgate_api::DEFAULT_CATALOG_RESYNC_COOLDOWN,
            password_hash_concurrency: 4,
            password_hash_wait: Duration::from_secs(30),
            trusted_proxies: &[],
            oauth_access_token_lifetime: mcpgate_api::DEFAULT_OAUTH_ACCESS_TOKEN_LIFETIME,
            upstream_oauth_refresh_margin: Duration::ZERO,
            audit_export: mcpgate_api::ExportSettings {
                poll_interval: Duration::from_millis(50),
                retry_base: Duration::from_millis(50),
                retry_max: Duration::from_millis(400),
                max_attempts: 4,
                request_timeout: Duration::from_secs(5),
                ..mcpgate_api::ExportSettings::default()
            },
            smtp_server: None,
        }
    }
}

/// Starts the API and the proxy on `127.0.0.1:0` against a fresh database and a
/// Redis of their own.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestAppOptions::default()).await
}

/// [`spawn_app`] with options.
pub async fn spawn_app_with(options: TestAppOptions) -> TestApp {
    mcpgate_service::init_telemetry(mcpgate_service::LogFormat::Text, "warn");
    let db = fresh_database().await;
    let redis = fresh_redis().await;
    let redis_conn = mcpgate_store::connect_redis(redis.url(), Duration::from_secs(5))
        .await
        .expect("connecting to the test Redis");
    let stop = CancellationToken::new();
    let grant_signing_key = GrantSigningKey::generate();
    let secret_key = SecretKey::generate();

    let any_port: SocketAddr = "127.0.0.1:0".parse().expect("a loopback address");
    // Bound first: its public URL (the OAuth issuer the proxy names) needs the port.
    let api_listener = tokio::net::TcpListener::bind(any_port)
        .await
        .expect("binding the API");
    let api_addr = api_listener.local_addr().expect("the API's address");
    let proxy_listener = tokio::net::TcpListener::bind(any_port)
        .await
        .expect("binding the proxy");
    let proxy_addr = proxy_listener.local_addr().expect("the proxy's address");
    let proxy = mcpgate_proxy::Application::build_on(
        proxy_listener,
        mcpgate_proxy::ProxySettings {
            allow_private_upstreams: options.allow_private_upstreams,
            authorization_server: Some(mcpgate_api::oauth_issuer(&format!("http://{api_addr}"))),
            // Loopback: any loopback Origin is accepted, as for a local install.
            ..mcpgate_proxy::ProxySettings::new(
                proxy_addr,
                format!("http://{proxy_addr}"),
                grant_signing_key.verify_key(),
                std::sync::Arc::new(copy_secret_key(&secret_key)),
            )
        },
        mcpgate_proxy::ProxyDeps {
            db: db.pool.clone(),
            redis: redis_conn.clone(),
        },
    )
    .await
    .expect("building the proxy");
    let api = mcpgate_api::Application::build_on(
        api_listener,
        api_settings(
            &options,
            proxy_addr,
            api_addr,
            &grant_signing_key,
            &secret_key,
        ),
        mcpgate_api::ApiDeps {
            db: db.pool.clone(),
            redis: redis_conn.clone(),
        },
    )
    .await
    .expect("building the API");
    tokio::spawn(api.run(stop.clone().cancelled_owned()));
    tokio::spawn(proxy.run(stop.clone().cancelled_owned()));

    TestApp {
        api_addr,
        proxy_addr,
        db,
        redis,
        redis_conn,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client"),
        grant_signing_key,
        secret_key,
        stop,
    }
}

/// The API's settings for a test: port 0, the test's keys and options.
fn api_settings(
    options: &TestAppOptions,
    proxy_addr: SocketAddr,
    api_addr: SocketAddr,
    grant_signing_key: &GrantSigningKey,
    secret_key: &SecretKey,
) -> mcpgate_api::ApiSettings {
    mcpgate_api::ApiSettings {
        listen: "127.0.0.1:0".parse().expect("a loopback address"),
        public_proxy_url: format!("http://{proxy_addr}"),
        public_api_url: format!("http://{api_addr}"),
        allow_private_upstreams: options.allow_private_upstreams,
        refused_upstreams: mcpgate_upstream::OwnAddresses::new(),
        password_hash_concurrency: options.password_hash_concurrency,
        password_hash_wait: options.password_hash_wait,
        trusted_proxies: mcpgate_api::TrustedProxies::parse_list(
            &options.trusted_proxies.join(","),
        )
        .expect("the test's trusted proxies"),
        grant_signing_key: copy_signing_key(grant_signing_key),
        secret_key: copy_secret_key(secret_key),
        catalog_resync_interval: options.catalog_resync_interval,
        catalog_resync_cooldown: options.catalog_resync_cooldown,
        oauth_access_token_lifetime: options.oauth_access_token_lifetime,
        upstream_oauth_refresh_margin: options.upstream_oauth_refresh_margin,
        audit_retention: mcpgate_api::AuditRetention::default(),
        audit_export: options.audit_export,
        smtp: options.smtp_server.map(|address| {
            mcpgate_api::SmtpSettings::parse(&format!("smtp://{address}"), "mcpgate@example.com")
                .expect("the test's SMTP receiver")
        }),
    }
}

/// A second API process on a [`TestApp`]'s database and Redis, as another
/// replica behind the load balancer would be; stopped when dropped.
#[derive(Debug)]
pub struct ApiReplica {
    /// Its address.
    pub api_addr: SocketAddr,
    stop: CancellationToken,
}

impl Drop for ApiReplica {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl TestApp {
    /// Starts another API replica, with `options`, beside this app's.
    pub async fn spawn_api_replica(&self, options: TestAppOptions) -> ApiReplica {
        let api = mcpgate_api::Application::build(
            api_settings(
                &options,
                self.proxy_addr,
                self.api_addr,
                &self.grant_signing_key,
                &self.secret_key,
            ),
            mcpgate_api::ApiDeps {
                db: self.db.pool.clone(),
                redis: self.redis_conn.clone(),
            },
        )
        .await
        .expect("building the API replica");
        let api_addr = api.local_addr().expect("the replica's address");
        let stop = CancellationToken::new();
        tokio::spawn(api.run(stop.clone().cancelled_owned()));
        ApiReplica { api_addr, stop }
    }
}

/// Keys are deliberately not `Clone`; tests need a second handle on the same key.
pub fn copy_signing_key(key: &GrantSigningKey) -> GrantSigningKey {
    GrantSigningKey::from_base64(&key.to_base64()).expect("a key we just encoded")
}

/// See [`copy_signing_key`].
pub fn copy_secret_key(key: &SecretKey) -> SecretKey {
    SecretKey::from_base64(&key.to_base64()).expect("a key we just encoded")
}

/// A second proxy process on a [`TestApp`]'s database and Redis, as another replica
/// behind the load balancer would be; stopped when dropped.
#[derive(Debug)]
pub struct ProxyReplica {
    /// Its address.
    pub proxy_addr: SocketAddr,
    stop: CancellationToken,
}

impl ProxyReplica {
    /// A URL on this replica.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.proxy_addr)
    }
}

impl Drop for ProxyReplica {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl TestApp {
    /// Starts another proxy replica beside this app's, with the same keys.
    pub async fn spawn_proxy_replica(&self, options: TestAppOptions) -> ProxyReplica {
        let any_port: SocketAddr = "127.0.0.1:0".parse().expect("a loopback address");
        let proxy = mcpgate_proxy::Application::build(
            mcpgate_proxy::ProxySettings {
                allow_private_upstreams: options.allow_private_upstreams,
                ..mcpgate_proxy::ProxySettings::new(
                    any_port,
                    "http://127.0.0.1",
                    self.grant_signing_key.verify_key(),
                    std::sync::Arc::new(copy_secret_key(&self.secret_key)),
                )
            },
            mcpgate_proxy::ProxyDeps {
                db: self.db.pool.clone(),
                redis: self.redis_conn.clone(),
            },
        )
        .await
        .expect("building the proxy replica");
        let proxy_addr = proxy.local_addr().expect("the replica's address");
        let stop = CancellationToken::new();
        tokio::spawn(proxy.run(stop.clone().cancelled_owned()));
        ProxyReplica { proxy_addr, stop }
    }
}
