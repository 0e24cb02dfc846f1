//! Configuration: command-line flags, then `MCPGATE_*` environment variables,
//! then the optional TOML file (`--config`), then defaults. If it loads, it is
//! valid; a bad value names its variable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use mcpgate_auth::{GrantSigningKey, GrantVerifyKey, SecretKey};
use mcpgate_service::LogFormat;
use serde::Deserialize;

/// Settings shared by every subcommand. Each can be given as a flag, as the
/// environment variable shown, or as the same name in snake_case in the TOML file.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsArgs {
    /// TOML file with any of the settings below (snake_case keys, e.g. `database_url`).
    #[arg(long, env = "MCPGATE_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Postgres URL of the control plane's database (api, proxy, migrate). `up` starts its own.
    #[arg(long, env = "MCPGATE_DATABASE_URL", global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Redis URL for rate-limit counters and change notifications. `up` starts its own.
    #[arg(long, env = "MCPGATE_REDIS_URL", global = true, value_name = "URL")]
    pub redis_url: Option<String>,

    /// PEM file of the private CA that signed the Redis servers' certificates, trusted
    /// instead of the public CAs by a `rediss…` URL [default: the public CAs].
    #[arg(
        long,
        env = "MCPGATE_REDIS_CA_FILE",
        global = true,
        value_name = "FILE"
    )]
    pub redis_ca_file: Option<PathBuf>,

    /// Listen address of the API and dashboard [default: 127.0.0.1:8080].
    #[arg(long, env = "MCPGATE_API_LISTEN", global = true, value_name = "ADDR")]
    pub api_listen: Option<String>,

    /// Listen address of the proxy [default: 127.0.0.1:8090].
    #[arg(long, env = "MCPGATE_PROXY_LISTEN", global = true, value_name = "ADDR")]
    pub proxy_listen: Option<String>,

    /// Public base URL of the proxy, shown to users in proxy URLs and client
    /// snippets [default: http://<proxy listen address>].
    #[arg(
        long,
        env = "MCPGATE_PUBLIC_PROXY_URL",
        global = true,
        value_name = "URL"
    )]
    pub public_proxy_url: Option<String>,

    /// Public base URL of the API and dashboard; an https URL makes session
    /// cookies `Secure` [default: http://<api listen address>].
    #[arg(
        long,
        env = "MCPGATE_PUBLIC_API_URL",
        global = true,
        value_name = "URL"
    )]
    pub public_api_url: Option<String>,

    /// Ed25519 private key that signs grant tokens (API): base64 of a PKCS#8 document.
    /// `up` generates one into its data folder.
    #[arg(
        long,
        env = "MCPGATE_GRANT_SIGNING_KEY",
        global = true,
        value_name = "BASE64",
        hide_env_values = true
    )]
    pub grant_signing_key: Option<String>,

    /// Ed25519 public key that verifies grant tokens (proxy): base64 of the 32 raw
    /// bytes [default: derived from the signing key when that is set].
    #[arg(
        long,
        env = "MCPGATE_GRANT_VERIFY_KEY",
        global = true,
        value_name = "BASE64"
    )]
    pub grant_verify_key: Option<String>,

    /// 32-byte key (base64) that encrypts secrets at rest, such as upstream
    /// credentials; API and proxy need the same one. `up` generates one.
    #[arg(
        long,
        env = "MCPGATE_SECRET_KEY",
        global = true,
        value_name = "BASE64",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,

    /// Allow upstream MCP servers on loopback and private addresses (local
    /// development; `up` turns it on) [default: false].
    #[arg(
        long,
        env = "MCPGATE_ALLOW_PRIVATE_UPSTREAMS",
        global = true,
        value_name = "BOOL"
    )]
    pub allow_private_upstreams: Option<bool>,

    /// Proxy: seconds a shutdown (SIGTERM) waits for in-flight calls before cutting
    /// them [default: 30].
    #[arg(
        long,
        env = "MCPGATE_PROXY_DRAIN_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub proxy_drain_seconds: Option<u64>,

    /// Proxy: seconds between keep-alive comments on the stream of a call held for
    /// approval [default: 15].
    #[arg(
        long,
        env = "MCPGATE_PROXY_APPROVAL_KEEP_ALIVE_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub proxy_approval_keep_alive_seconds: Option<u64>,

    /// Proxy: seconds between reads of a held call's approval, the fallback when the
    /// change message announcing the decision is lost [default: 2].
    #[arg(
        long,
        env = "MCPGATE_PROXY_APPROVAL_POLL_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub proxy_approval_poll_seconds: Option<u64>,

    /// Proxy: verified grant tokens remembered so each signature is checked once; 0
    /// turns the cache off [default: 100000].
    #[arg(
        long,
        env = "MCPGATE_PROXY_TOKEN_CACHE_ENTRIES",
        global = true,
        value_name = "COUNT"
    )]
    pub proxy_token_cache_entries: Option<usize>,

    /// Proxy: the largest upstream answer read whole (a JSON body it filters or checks)
    /// and the largest single SSE event; past it the answer ends with an error
    /// [default: 16777216].
    #[arg(
        long,
        env = "MCPGATE_PROXY_MAX_UPSTREAM_MESSAGE_BYTES",
        global = true,
        value_name = "BYTES"
    )]
    pub proxy_max_upstream_message_bytes: Option<usize>,

    /// Proxy: the most messages in one JSON-RPC batch [default: 100].
    #[arg(
        long,
        env = "MCPGATE_PROXY_MAX_BATCH_MESSAGES",
        global = true,
        value_name = "COUNT"
    )]
    pub proxy_max_batch_messages: Option<usize>,

    /// Proxy: seconds a client may take to send a request body (408 after) [default: 30].
    #[arg(
        long,
        env = "MCPGATE_PROXY_BODY_READ_TIMEOUT_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub proxy_body_read_timeout_seconds: Option<u64>,

    /// Proxy: calls of one grant held for approval at once, per process [default: 20].
    #[arg(
        long,
        env = "MCPGATE_PROXY_MAX_HELD_CALLS_PER_GRANT",
        global = true,
        value_name = "COUNT"
    )]
    pub proxy_max_held_calls_per_grant: Option<usize>,

    /// Proxy: long-lived streams (GET, legacy SSE) one grant keeps open, per process
    /// [default: 50].
    #[arg(
        long,
        env = "MCPGATE_PROXY_MAX_STREAMS_PER_GRANT",
        global = true,
        value_name = "COUNT"
    )]
    pub proxy_max_streams_per_grant: Option<usize>,

    /// Proxy: when set, `/metrics` needs `Authorization: Bearer <token>` [default: unset,
    /// open].
    #[arg(
        long,
        env = "MCPGATE_PROXY_METRICS_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub proxy_metrics_token: Option<String>,

    /// Proxy: a directory where queued audit events are journaled before each call is
    /// answered, so a proxy process that dies without draining (SIGKILL, OOM) loses
    /// none; proxies sharing it take over a stopped one's journal within 2 s. Local
    /// disk (an `emptyDir` in Kubernetes) [default: unset, queued events are in memory
    /// until written, up to 200 ms].
    #[arg(
        long,
        env = "MCPGATE_PROXY_AUDIT_SPOOL_DIR",
        global = true,
        value_name = "DIR"
    )]
    pub proxy_audit_spool_dir: Option<std::path::PathBuf>,

    /// API: seconds between the automatic re-syncs of each server's tool catalogue,
    /// spread over the interval; 0 turns them off [default: 900].
    #[arg(
        long,
        env = "MCPGATE_API_CATALOG_RESYNC_INTERVAL_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub api_catalog_resync_interval_seconds: Option<u64>,

    /// API: least seconds between two automatic re-syncs of one server, across API
    /// replicas, however often its proxies ask [default: 30].
    #[arg(
        long,
        env = "MCPGATE_API_CATALOG_RESYNC_COOLDOWN_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub api_catalog_resync_cooldown_seconds: Option<u64>,

    /// API: seconds an OAuth access token issued to a connected client lasts; it then
    /// refreshes. Revoking the connection ends it sooner [default: 600].
    #[arg(
        long,
        env = "MCPGATE_API_OAUTH_ACCESS_TOKEN_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub api_oauth_access_token_seconds: Option<u64>,

    /// API: seconds ahead of its expiry a background task renews an upstream OAuth
    /// server's access token (never more than half its lifetime ahead), so agents'
    /// calls rarely wait for a refresh; 0 leaves refreshing to the proxies, when due
    /// [default: 300].
    #[arg(
        long,
        env = "MCPGATE_API_UPSTREAM_OAUTH_REFRESH_MARGIN_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub api_upstream_oauth_refresh_margin_seconds: Option<u64>,

    /// API: password hashes (argon2id, 19 MiB each) computed at once; sign-ups and
    /// logins beyond it get 503 with Retry-After [default: the number of CPUs].
    #[arg(
        long,
        env = "MCPGATE_API_PASSWORD_HASH_CONCURRENCY",
        global = true,
        value_name = "COUNT"
    )]
    pub api_password_hash_concurrency: Option<usize>,

    /// API: milliseconds a sign-up or login waits for a hashing slot before its 503
    /// [default: 250].
    #[arg(
        long,
        env = "MCPGATE_API_PASSWORD_HASH_WAIT_MS",
        global = true,
        value_name = "MILLISECONDS"
    )]
    pub api_password_hash_wait_ms: Option<u64>,

    /// API: comma-separated CIDRs of the proxies (load balancers) in front of the API;
    /// from a peer among them, the client is the right-most untrusted X-Forwarded-For
    /// entry (login rate limit) [default: none, the peer is the client].
    #[arg(
        long,
        env = "MCPGATE_API_TRUSTED_PROXIES",
        global = true,
        value_name = "CIDRS"
    )]
    pub api_trusted_proxies: Option<String>,

    /// API: days a tenant's audit rows are kept unless its `tenants.audit_retention_days`
    /// says otherwise; whole daily partitions go once older than the longest retention
    /// [default: 90].
    #[arg(
        long,
        env = "MCPGATE_AUDIT_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub audit_retention_days: Option<usize>,

    /// API: days of audit partitions made ahead, how long the proxies can write while no
    /// API runs the upkeep [default: 14].
    #[arg(
        long,
        env = "MCPGATE_AUDIT_PARTITIONS_AHEAD_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub audit_partitions_ahead_days: Option<usize>,

    /// API: events per batch POSTed to a tenant's SIEM webhook [default: 500].
    #[arg(
        long,
        env = "MCPGATE_AUDIT_EXPORT_BATCH_SIZE",
        global = true,
        value_name = "EVENTS"
    )]
    pub audit_export_batch_size: Option<usize>,

    /// API: attempts of one SIEM export batch (exponential backoff from 1 s, at most
    /// 5 min apart) before it is given up on and counted as dead letters [default: 10].
    #[arg(
        long,
        env = "MCPGATE_AUDIT_EXPORT_MAX_ATTEMPTS",
        global = true,
        value_name = "ATTEMPTS"
    )]
    pub audit_export_max_attempts: Option<usize>,

    /// API: the SMTP server invitations and password-reset links are mailed through,
    /// `smtp://[user:password@]host:port` (add `?tls=required` for STARTTLS) or
    /// `smtps://host:port`; needs MCPGATE_SMTP_FROM [default: unset, nothing is mailed].
    #[arg(
        long,
        env = "MCPGATE_SMTP_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,

    /// API: the sender of those mails, `noreply@example.com` or
    /// `mcpgate <noreply@example.com>`.
    #[arg(long, env = "MCPGATE_SMTP_FROM", global = true, value_name = "ADDRESS")]
    pub smtp_from: Option<String>,
    /// Threads of the async runtime; unset, one per CPU core [default: cores]. On a small
    /// machine whose cores the proxy shares with Redis, Postgres or the upstream, fewer
    /// threads cost less CPU per call (docs/benchmarks.md).
    #[arg(
        long,
        env = "MCPGATE_WORKER_THREADS",
        global = true,
        value_name = "THREADS"
    )]
    pub worker_threads: Option<usize>,

    /// Proxy: threads serving its connections, each with its own single-threaded
    /// runtime, Redis connection and upstream pool, so a call's answers never wake
    /// another thread [default: cores].
    #[arg(
        long,
        env = "MCPGATE_PROXY_THREADS",
        global = true,
        value_name = "THREADS"
    )]
    pub proxy_threads: Option<usize>,

    /// Log format: `text` or `json` [default: text].
    #[arg(long, env = "MCPGATE_LOG_FORMAT", global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Log filter in RUST_LOG syntax [default: info].
    #[arg(long, env = "MCPGATE_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// The OTLP/HTTP collector traces are exported to (protobuf, to `{URL}/v1/traces`):
    /// one span per governed call [default: unset, no traces].
    #[arg(
        long,
        env = "OTEL_EXPORTER_OTLP_ENDPOINT",
        global = true,
        value_name = "URL"
    )]
    pub otel_exporter_otlp_endpoint: Option<String>,

    /// The `service.name` of the exported spans [default: mcpgate].
    #[arg(long, env = "OTEL_SERVICE_NAME", global = true, value_name = "NAME")]
    pub otel_service_name: Option<String>,
}

/// The OTLP endpoint (an http(s) URL; empty is unset) and the service's name.
fn otlp(
    endpoint: Option<String>,
    service_name: Option<String>,
) -> Result<Option<mcpgate_service::Otlp>, ConfigError> {
    let Some(endpoint) = endpoint.filter(|url| !url.trim().is_empty()) else {
        return Ok(None);
    };
    let endpoint = endpoint.trim();
    let invalid = |reason: String| ConfigError::Invalid {
        variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
        flag: "otel-exporter-otlp-endpoint",
        reason,
    };
    let url = reqwest::Url::parse(endpoint).map_err(|error| invalid(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            "an http:// or https:// URL of an OTLP/HTTP collector (e.g. http://127.0.0.1:4318)"
                .into(),
        ));
    }
    let service_name = service_name
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "mcpgate".to_owned());
    Ok(Some(mcpgate_service::Otlp::new(endpoint, service_name)))
}

/// The SMTP server and sender: both or neither (an empty URL is unset).
fn smtp_settings(
    url: Option<String>,
    from: Option<String>,
) -> Result<Option<mcpgate_api::SmtpSettings>, ConfigError> {
    let Some(url) = url.filter(|url| !url.trim().is_empty()) else {
        return Ok(None);
    };
    let from = from
        .filter(|from| !from.trim().is_empty())
        .ok_or(ConfigError::Invalid {
            variable: "MCPGATE_SMTP_FROM",
            flag: "smtp-from",
            reason: "required with MCPGATE_SMTP_URL: the address mail is sent from".into(),
        })?;
    mcpgate_api::SmtpSettings::parse(url.trim(), from.trim())
        .map(Some)
        .map_err(|error| match error {
            mcpgate_api::SmtpSettingsError::Url(_) => ConfigError::Invalid {
                variable: "MCPGATE_SMTP_URL",
                flag: "smtp-url",
                reason: error.to_string(),
            },
            mcpgate_api::SmtpSettingsError::From(_) => ConfigError::Invalid {
                variable: "MCPGATE_SMTP_FROM",
                flag: "smtp-from",
                reason: error.to_string(),
            },
        })
}

/// The TOML file's shape: the same settings, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    redis_url: Option<String>,
    redis_ca_file: Option<PathBuf>,
    api_listen: Option<String>,
    proxy_listen: Option<String>,
    public_proxy_url: Option<String>,
    public_api_url: Option<String>,
    grant_signing_key: Option<String>,
    grant_verify_key: Option<String>,
    secret_key: Option<String>,
    allow_private_upstreams: Option<bool>,
    proxy_drain_seconds: Option<u64>,
    proxy_approval_keep_alive_seconds: Option<u64>,
    proxy_approval_poll_seconds: Option<u64>,
    proxy_token_cache_entries: Option<usize>,
    proxy_max_upstream_message_bytes: Option<usize>,
    proxy_max_batch_messages: Option<usize>,
    proxy_body_read_timeout_seconds: Option<u64>,
    proxy_max_held_calls_per_grant: Option<usize>,
    proxy_max_streams_per_grant: Option<usize>,
    proxy_metrics_token: Option<String>,
    proxy_audit_spool_dir: Option<std::path::PathBuf>,
    api_catalog_resync_interval_seconds: Option<u64>,
    api_catalog_resync_cooldown_seconds: Option<u64>,
    api_oauth_access_token_seconds: Option<u64>,
    api_upstream_oauth_refresh_margin_seconds: Option<u64>,
    api_password_hash_concurrency: Option<usize>,
    api_password_hash_wait_ms: Option<u64>,
    api_trusted_proxies: Option<String>,
    audit_retention_days: Option<usize>,
    audit_partitions_ahead_days: Option<usize>,
    audit_export_batch_size: Option<usize>,
    audit_export_max_attempts: Option<usize>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    worker_threads: Option<usize>,
    proxy_threads: Option<usize>,
    log_format: Option<String>,
    log: Option<String>,
    otel_exporter_otlp_endpoint: Option<String>,
    otel_service_name: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    /// What a `rediss…` URL trusts: the public CAs, or `MCPGATE_REDIS_CA_FILE`'s.
    pub redis_trust: mcpgate_store::RedisTrust,
    pub api_listen: SocketAddr,
    pub proxy_listen: SocketAddr,
    pub public_proxy_url: String,
    pub public_api_url: String,
    pub grant_signing_key: Option<String>,
    pub grant_verify_key: Option<String>,
    pub secret_key: Option<String>,
    /// As configured; `None` when nobody set it (see [`Config::allow_private_upstreams`]).
    pub allow_private_upstreams: Option<bool>,
    pub proxy_drain: Duration,
    pub proxy_approval_keep_alive: Duration,
    pub proxy_approval_poll: Duration,
    pub proxy_token_cache_entries: usize,
    pub proxy_max_upstream_message_bytes: usize,
    pub proxy_max_batch_messages: usize,
    pub proxy_body_read_timeout: Duration,
    pub proxy_max_held_calls_per_grant: usize,
    pub proxy_max_streams_per_grant: usize,
    pub proxy_metrics_token: Option<String>,
    pub proxy_audit_spool_dir: Option<std::path::PathBuf>,
    pub api_catalog_resync_interval: Duration,
    pub api_catalog_resync_cooldown: Duration,
    pub api_oauth_access_token_lifetime: Duration,
    /// Zero: renewing ahead is off.
    pub api_upstream_oauth_refresh_margin: Duration,
    pub api_password_hash_concurrency: usize,
    pub api_password_hash_wait: Duration,
    pub api_trusted_proxies: mcpgate_api::TrustedProxies,
    pub audit_retention: mcpgate_api::AuditRetention,
    pub audit_export: mcpgate_api::ExportSettings,
    /// Where mail goes out; `None` mails nothing.
    pub smtp: Option<mcpgate_api::SmtpSettings>,
    /// `None`: the runtime's default, one thread per core.
    pub worker_threads: Option<usize>,
    /// `None`: one per core.
    pub proxy_threads: Option<std::num::NonZeroUsize>,
    pub log_format: LogFormat,
    pub log: String,
    /// Where traces are exported; `None` exports none.
    pub otlp: Option<mcpgate_service::Otlp>,
}

/// A setting that failed to load, named as the user wrote it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {source}")]
    ParseFile {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{variable} (or --{flag}) is invalid: {reason}")]
    Invalid {
        variable: &'static str,
        flag: &'static str,
        reason: String,
    },
    #[error("{variable} (or --{flag}) is required for `mcpgate {command}`")]
    Missing {
        variable: &'static str,
        flag: &'static str,
        command: &'static str,
    },
}

impl SettingsArgs {
    /// Merges flags/environment over the file over defaults, and validates.
    pub fn load(&self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let api_listen = parse_addr(
            self.api_listen.clone().or(file.api_listen),
            "127.0.0.1:8080",
            "MCPGATE_API_LISTEN",
            "api-listen",
        )?;
        let proxy_listen = parse_addr(
            self.proxy_listen.clone().or(file.proxy_listen),
            "127.0.0.1:8090",
            "MCPGATE_PROXY_LISTEN",
            "proxy-listen",
        )?;
        let public_proxy_url = parse_url(
            self.public_proxy_url.clone().or(file.public_proxy_url),
            proxy_listen,
            "MCPGATE_PUBLIC_PROXY_URL",
            "public-proxy-url",
        )?;
        let public_api_url = parse_url(
            self.public_api_url.clone().or(file.public_api_url),
            api_listen,
            "MCPGATE_PUBLIC_API_URL",
            "public-api-url",
        )?;
        let otlp = otlp(
            self.otel_exporter_otlp_endpoint
                .clone()
                .or(file.otel_exporter_otlp_endpoint),
            self.otel_service_name.clone().or(file.otel_service_name),
        )?;
        let log_format = self
            .log_format
            .clone()
            .or(file.log_format)
            .map(|f| f.parse::<LogFormat>())
            .transpose()
            .map_err(|reason| ConfigError::Invalid {
                variable: "MCPGATE_LOG_FORMAT",
                flag: "log-format",
                reason,
            })?
            .unwrap_or_default();
        let proxy_drain = Duration::from_secs(
            self.proxy_drain_seconds
                .or(file.proxy_drain_seconds)
                .unwrap_or(30),
        );
        let proxy_approval_keep_alive = positive_seconds(
            self.proxy_approval_keep_alive_seconds
                .or(file.proxy_approval_keep_alive_seconds),
            15,
            "MCPGATE_PROXY_APPROVAL_KEEP_ALIVE_SECONDS",
            "proxy-approval-keep-alive-seconds",
        )?;
        let proxy_approval_poll = positive_seconds(
            self.proxy_approval_poll_seconds
                .or(file.proxy_approval_poll_seconds),
            2,
            "MCPGATE_PROXY_APPROVAL_POLL_SECONDS",
            "proxy-approval-poll-seconds",
        )?;
        let api_catalog_resync_interval = self
            .api_catalog_resync_interval_seconds
            .or(file.api_catalog_resync_interval_seconds)
            .map_or(
                mcpgate_api::DEFAULT_CATALOG_RESYNC_INTERVAL,
                Duration::from_secs,
            );
        let api_catalog_resync_cooldown = positive_seconds(
            self.api_catalog_resync_cooldown_seconds
                .or(file.api_catalog_resync_cooldown_seconds),
            mcpgate_api::DEFAULT_CATALOG_RESYNC_COOLDOWN.as_secs(),
            "MCPGATE_API_CATALOG_RESYNC_COOLDOWN_SECONDS",
            "api-catalog-resync-cooldown-seconds",
        )?;
        let api_oauth_access_token_lifetime = positive_seconds(
            self.api_oauth_access_token_seconds
                .or(file.api_oauth_access_token_seconds),
            mcpgate_api::DEFAULT_OAUTH_ACCESS_TOKEN_LIFETIME.as_secs(),
            "MCPGATE_API_OAUTH_ACCESS_TOKEN_SECONDS",
            "api-oauth-access-token-seconds",
        )?;
        let api_upstream_oauth_refresh_margin = self
            .api_upstream_oauth_refresh_margin_seconds
            .or(file.api_upstream_oauth_refresh_margin_seconds)
            .map_or(
                mcpgate_api::DEFAULT_UPSTREAM_OAUTH_REFRESH_MARGIN,
                Duration::from_secs,
            );
        let api_password_hash_concurrency = match self
            .api_password_hash_concurrency
            .or(file.api_password_hash_concurrency)
        {
            Some(0) => {
                return Err(ConfigError::Invalid {
                    variable: "MCPGATE_API_PASSWORD_HASH_CONCURRENCY",
                    flag: "api-password-hash-concurrency",
                    reason: "must be at least 1".into(),
                })
            }
            Some(count) => count,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        let api_password_hash_wait = self
            .api_password_hash_wait_ms
            .or(file.api_password_hash_wait_ms)
            .map_or(
                mcpgate_api::DEFAULT_PASSWORD_HASH_WAIT,
                Duration::from_millis,
            );
        let api_trusted_proxies = mcpgate_api::TrustedProxies::parse_list(
            self.api_trusted_proxies
                .as_deref()
                .or(file.api_trusted_proxies.as_deref())
                .unwrap_or(""),
        )
        .map_err(|error| ConfigError::Invalid {
            variable: "MCPGATE_API_TRUSTED_PROXIES",
            flag: "api-trusted-proxies",
            reason: error.to_string(),
        })?;
        let redis_trust = match self.redis_ca_file.clone().or(file.redis_ca_file) {
            None => mcpgate_store::RedisTrust::default(),
            Some(path) => mcpgate_store::RedisTrust::private_ca_file(&path).map_err(|error| {
                ConfigError::Invalid {
                    variable: "MCPGATE_REDIS_CA_FILE",
                    flag: "redis-ca-file",
                    reason: error.to_string(),
                }
            })?,
        };
        Ok(Config {
            database_url: self.database_url.clone().or(file.database_url),
            redis_url: self.redis_url.clone().or(file.redis_url),
            redis_trust,
            api_listen,
            proxy_listen,
            public_proxy_url,
            public_api_url,
            grant_signing_key: self.grant_signing_key.clone().or(file.grant_signing_key),
            grant_verify_key: self.grant_verify_key.clone().or(file.grant_verify_key),
            secret_key: self.secret_key.clone().or(file.secret_key),
            allow_private_upstreams: self
                .allow_private_upstreams
                .or(file.allow_private_upstreams),
            proxy_drain,
            proxy_approval_keep_alive,
            proxy_approval_poll,
            proxy_token_cache_entries: self
                .proxy_token_cache_entries
                .or(file.proxy_token_cache_entries)
                .unwrap_or(100_000),
            proxy_max_upstream_message_bytes: at_least_one(
                self.proxy_max_upstream_message_bytes
                    .or(file.proxy_max_upstream_message_bytes),
                16 * 1024 * 1024,
                "MCPGATE_PROXY_MAX_UPSTREAM_MESSAGE_BYTES",
                "proxy-max-upstream-message-bytes",
            )?,
            proxy_max_batch_messages: at_least_one(
                self.proxy_max_batch_messages
                    .or(file.proxy_max_batch_messages),
                100,
                "MCPGATE_PROXY_MAX_BATCH_MESSAGES",
                "proxy-max-batch-messages",
            )?,
            proxy_body_read_timeout: positive_seconds(
                self.proxy_body_read_timeout_seconds
                    .or(file.proxy_body_read_timeout_seconds),
                30,
                "MCPGATE_PROXY_BODY_READ_TIMEOUT_SECONDS",
                "proxy-body-read-timeout-seconds",
            )?,
            proxy_max_held_calls_per_grant: at_least_one(
                self.proxy_max_held_calls_per_grant
                    .or(file.proxy_max_held_calls_per_grant),
                20,
                "MCPGATE_PROXY_MAX_HELD_CALLS_PER_GRANT",
                "proxy-max-held-calls-per-grant",
            )?,
            proxy_max_streams_per_grant: at_least_one(
                self.proxy_max_streams_per_grant
                    .or(file.proxy_max_streams_per_grant),
                50,
                "MCPGATE_PROXY_MAX_STREAMS_PER_GRANT",
                "proxy-max-streams-per-grant",
            )?,
            proxy_metrics_token: self
                .proxy_metrics_token
                .clone()
                .or(file.proxy_metrics_token)
                .filter(|token| !token.is_empty()),
            proxy_audit_spool_dir: self
                .proxy_audit_spool_dir
                .clone()
                .or(file.proxy_audit_spool_dir)
                .filter(|dir| !dir.as_os_str().is_empty()),
            api_catalog_resync_interval,
            api_catalog_resync_cooldown,
            api_oauth_access_token_lifetime,
            api_upstream_oauth_refresh_margin,
            api_password_hash_concurrency,
            api_password_hash_wait,
            api_trusted_proxies,
            audit_retention: mcpgate_api::AuditRetention {
                default_days: days(
                    at_least_one(
                        self.audit_retention_days.or(file.audit_retention_days),
                        90,
                        "MCPGATE_AUDIT_RETENTION_DAYS",
                        "audit-retention-days",
                    )?,
                    "MCPGATE_AUDIT_RETENTION_DAYS",
                    "audit-retention-days",
                )?,
                days_ahead: days(
                    at_least_one(
                        self.audit_partitions_ahead_days
                            .or(file.audit_partitions_ahead_days),
                        14,
                        "MCPGATE_AUDIT_PARTITIONS_AHEAD_DAYS",
                        "audit-partitions-ahead-days",
                    )?,
                    "MCPGATE_AUDIT_PARTITIONS_AHEAD_DAYS",
                    "audit-partitions-ahead-days",
                )?,
            },
            audit_export: mcpgate_api::ExportSettings {
                batch_size: at_least_one(
                    self.audit_export_batch_size
                        .or(file.audit_export_batch_size),
                    500,
                    "MCPGATE_AUDIT_EXPORT_BATCH_SIZE",
                    "audit-export-batch-size",
                )?,
                max_attempts: u32::try_from(at_least_one(
                    self.audit_export_max_attempts
                        .or(file.audit_export_max_attempts),
                    10,
                    "MCPGATE_AUDIT_EXPORT_MAX_ATTEMPTS",
                    "audit-export-max-attempts",
                )?)
                .unwrap_or(u32::MAX),
                ..mcpgate_api::ExportSettings::default()
            },
            smtp: smtp_settings(
                self.smtp_url.clone().or(file.smtp_url),
                self.smtp_from.clone().or(file.smtp_from),
            )?,
            worker_threads: self
                .worker_threads
                .or(file.worker_threads)
                .map(|threads| {
                    at_least_one(Some(threads), 1, "MCPGATE_WORKER_THREADS", "worker-threads")
                })
                .transpose()?,
            proxy_threads: self
                .proxy_threads
                .or(file.proxy_threads)
                .map(|threads| {
                    at_least_one(Some(threads), 1, "MCPGATE_PROXY_THREADS", "proxy-threads")
                        .map(|threads| std::num::NonZeroUsize::new(threads).expect("at least one"))
                })
                .transpose()?,
            log_format,
            otlp,
            log: self
                .log
                .clone()
                .or(file.log)
                .unwrap_or_else(|| "info".into()),
        })
    }
}

/// A number of seconds that must not be zero (an interval).
fn positive_seconds(
    value: Option<u64>,
    default: u64,
    variable: &'static str,
    flag: &'static str,
) -> Result<Duration, ConfigError> {
    match value.unwrap_or(default) {
        0 => Err(ConfigError::Invalid {
            variable,
            flag,
            reason: "must be at least 1".into(),
        }),
        seconds => Ok(Duration::from_secs(seconds)),
    }
}

/// A count that must not be zero (a cap of nothing would refuse everything).
/// A count of days, at most ten years.
fn days(value: usize, variable: &'static str, flag: &'static str) -> Result<u32, ConfigError> {
    u32::try_from(value)
        .ok()
        .filter(|days| *days <= 3650)
        .ok_or(ConfigError::Invalid {
            variable,
            flag,
            reason: "must be at most 3650 days".into(),
        })
}

fn at_least_one(
    value: Option<usize>,
    default: usize,
    variable: &'static str,
    flag: &'static str,
) -> Result<usize, ConfigError> {
    match value.unwrap_or(default) {
        0 => Err(ConfigError::Invalid {
            variable,
            flag,
            reason: "must be at least 1".into(),
        }),
        count => Ok(count),
    }
}

impl Config {
    /// Whether upstreams on loopback and private addresses are allowed: as configured,
    /// `false` when not set.
    pub fn allow_private_upstreams(&self) -> bool {
        self.allow_private_upstreams.unwrap_or(false)
    }

    /// The key that signs grant tokens, required by the API.
    pub fn grant_signing_key(&self, command: &'static str) -> Result<GrantSigningKey, ConfigError> {
        let text = self
            .grant_signing_key
            .as_deref()
            .ok_or(ConfigError::Missing {
                variable: "MCPGATE_GRANT_SIGNING_KEY",
                flag: "grant-signing-key",
                command,
            })?;
        GrantSigningKey::from_base64(text).map_err(|error| ConfigError::Invalid {
            variable: "MCPGATE_GRANT_SIGNING_KEY",
            flag: "grant-signing-key",
            reason: error.to_string(),
        })
    }

    /// The key that verifies grant tokens, required by the proxy: the explicit
    /// verify key, or the one derived from the signing key.
    pub fn grant_verify_key(&self, command: &'static str) -> Result<GrantVerifyKey, ConfigError> {
        match (&self.grant_verify_key, &self.grant_signing_key) {
            (Some(text), _) => {
                GrantVerifyKey::from_base64(text).map_err(|error| ConfigError::Invalid {
                    variable: "MCPGATE_GRANT_VERIFY_KEY",
                    flag: "grant-verify-key",
                    reason: error.to_string(),
                })
            }
            (None, Some(_)) => Ok(self.grant_signing_key(command)?.verify_key()),
            (None, None) => Err(ConfigError::Missing {
                variable: "MCPGATE_GRANT_VERIFY_KEY",
                flag: "grant-verify-key",
                command,
            }),
        }
    }

    /// The key that seals secrets at rest, required by API and proxy.
    pub fn secret_key(&self, command: &'static str) -> Result<SecretKey, ConfigError> {
        let text = self.secret_key.as_deref().ok_or(ConfigError::Missing {
            variable: "MCPGATE_SECRET_KEY",
            flag: "secret-key",
            command,
        })?;
        SecretKey::from_base64(text).map_err(|error| ConfigError::Invalid {
            variable: "MCPGATE_SECRET_KEY",
            flag: "secret-key",
            reason: error.to_string(),
        })
    }

    /// The database URL, or an error naming the variable to set.
    pub fn require_database_url(&self, command: &'static str) -> Result<&str, ConfigError> {
        self.database_url.as_deref().ok_or(ConfigError::Missing {
            variable: "MCPGATE_DATABASE_URL",
            flag: "database-url",
            command,
        })
    }

    /// The Redis URL, or an error naming the variable to set.
    pub fn require_redis_url(&self, command: &'static str) -> Result<&str, ConfigError> {
        self.redis_url.as_deref().ok_or(ConfigError::Missing {
            variable: "MCPGATE_REDIS_URL",
            flag: "redis-url",
            command,
        })
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::ParseFile {
        path: path.to_path_buf(),
        source: Box::new(source),
    })
}

fn parse_addr(
    value: Option<String>,
    default: &str,
    variable: &'static str,
    flag: &'static str,
) -> Result<SocketAddr, ConfigError> {
    let text = value.unwrap_or_else(|| default.to_owned());
    text.parse().map_err(|_| ConfigError::Invalid {
        variable,
        flag,
        reason: format!("`{text}` is not an address like 127.0.0.1:8080"),
    })
}

fn parse_url(
    value: Option<String>,
    listen: SocketAddr,
    variable: &'static str,
    flag: &'static str,
) -> Result<String, ConfigError> {
    let Some(text) = value else {
        return Ok(format!("http://{listen}"));
    };
    let trimmed = text.trim_end_matches('/');
    let valid = reqwest::Url::parse(trimmed)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some());
    match valid {
        Some(_) => Ok(trimmed.to_owned()),
        None => Err(ConfigError::Invalid {
            variable,
            flag,
            reason: format!("`{text}` is not an http(s) URL"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_ports_8080_and_8090() {
        let config = SettingsArgs::default().load().unwrap();
        assert_eq!(config.api_listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.proxy_listen.to_string(), "127.0.0.1:8090");
        assert_eq!(config.public_proxy_url, "http://127.0.0.1:8090");
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(!config.allow_private_upstreams());
    }

    #[test]
    fn smtp_needs_a_sender_and_a_smtp_url_each_named_when_wrong() {
        let without_sender = SettingsArgs {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            ..Default::default()
        };
        let error = without_sender.load().unwrap_err().to_string();
        assert!(error.contains("MCPGATE_SMTP_FROM"), "{error}");
        let wrong_scheme = SettingsArgs {
            smtp_url: Some("http://127.0.0.1:2525".into()),
            smtp_from: Some("noreply@example.com".into()),
            ..Default::default()
        };
        let error = wrong_scheme.load().unwrap_err().to_string();
        assert!(error.contains("MCPGATE_SMTP_URL"), "{error}");
        let configured = SettingsArgs {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            smtp_from: Some("mcpgate <noreply@example.com>".into()),
            ..Default::default()
        };
        assert!(configured.load().unwrap().smtp.is_some());
        assert!(SettingsArgs::default().load().unwrap().smtp.is_none());
    }

    #[test]
    fn traces_are_off_by_default_and_an_endpoint_that_is_not_http_names_its_variable() {
        assert!(SettingsArgs::default().load().unwrap().otlp.is_none());
        let wrong = SettingsArgs {
            otel_exporter_otlp_endpoint: Some("127.0.0.1:4318".into()),
            ..Default::default()
        };
        let error = wrong.load().unwrap_err().to_string();
        assert!(error.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{error}");
        let configured = SettingsArgs {
            otel_exporter_otlp_endpoint: Some("http://127.0.0.1:4318/".into()),
            ..Default::default()
        };
        let otlp = configured.load().unwrap().otlp.expect("traces on");
        assert_eq!(otlp.traces_url(), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(otlp.service_name, "mcpgate");
    }

    #[test]
    fn a_redis_ca_file_that_is_missing_or_holds_no_certificate_names_its_variable() {
        assert!(!SettingsArgs::default()
            .load()
            .unwrap()
            .redis_trust
            .has_private_ca());
        let dir = std::env::temp_dir().join(format!("mcpgate-redis-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not-a-ca.pem");
        std::fs::write(&not_pem, "not a certificate\n").unwrap();
        for path in [dir.join("missing.pem"), not_pem] {
            let args = SettingsArgs {
                redis_ca_file: Some(path.clone()),
                ..Default::default()
            };
            let error = args.load().unwrap_err().to_string();
            assert!(error.contains("MCPGATE_REDIS_CA_FILE"), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_listen_address_names_its_variable() {
        let args = SettingsArgs {
            proxy_listen: Some("localhost".into()),
            ..Default::default()
        };
        let error = args.load().unwrap_err().to_string();
        assert!(error.contains("MCPGATE_PROXY_LISTEN"), "{error}");
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = std::env::temp_dir().join(format!("mcpgate-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mcpgate.toml");
        std::fs::write(
            &path,
            "api_listen = \"127.0.0.1:9000\"\nproxy_listen = \"127.0.0.1:9001\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let args = SettingsArgs {
            config: Some(path),
            api_listen: Some("127.0.0.1:7000".into()),
            ..Default::default()
        };
        let config = args.load().unwrap();
        assert_eq!(config.api_listen.to_string(), "127.0.0.1:7000");
        assert_eq!(config.proxy_listen.to_string(), "127.0.0.1:9001");
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn worker_threads_default_to_the_runtime_and_zero_is_refused_by_name() {
        assert_eq!(SettingsArgs::default().load().unwrap().worker_threads, None);
        let one = SettingsArgs {
            worker_threads: Some(1),
            ..Default::default()
        };
        assert_eq!(one.load().unwrap().worker_threads, Some(1));
        let zero = SettingsArgs {
            worker_threads: Some(0),
            ..Default::default()
        };
        let error = zero.load().unwrap_err().to_string();
        assert!(error.contains("MCPGATE_WORKER_THREADS"), "{error}");
    }

    #[test]
    fn proxy_threads_default_to_one_per_core_and_zero_is_refused_by_name() {
        assert_eq!(SettingsArgs::default().load().unwrap().proxy_threads, None);
        let three = SettingsArgs {
            proxy_threads: Some(3),
            ..Default::default()
        };
        assert_eq!(
            three
                .load()
                .unwrap()
                .proxy_threads
                .map(std::num::NonZeroUsize::get),
            Some(3)
        );
        let zero = SettingsArgs {
            proxy_threads: Some(0),
            ..Default::default()
        };
        let error = zero.load().unwrap_err().to_string();
        assert!(error.contains("MCPGATE_PROXY_THREADS"), "{error}");
    }

    #[test]
    fn catalogue_resyncs_default_to_fifteen_minutes_with_a_thirty_second_cooldown() {
        let config = SettingsArgs::default().load().unwrap();
        assert_eq!(config.api_catalog_resync_interval, Duration::from_secs(900));
        assert_eq!(config.api_catalog_resync_cooldown, Duration::from_secs(30));
        let off = SettingsArgs {
            api_catalog_resync_interval_seconds: Some(0),
            ..Default::default()
        };
        assert!(off.load().unwrap().api_catalog_resync_interval.is_zero());
        let no_cooldown = SettingsArgs {
            api_catalog_resync_cooldown_seconds: Some(0),
            ..Default::default()
        };
        let error = no_cooldown.load().unwrap_err().to_string();
        assert!(
            error.contains("MCPGATE_API_CATALOG_RESYNC_COOLDOWN_SECONDS"),
            "{error}"
        );
    }

    #[test]
    fn password_hashing_defaults_to_the_cpus_and_trusts_no_proxy() {
        let config = SettingsArgs::default().load().unwrap();
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(config.api_password_hash_concurrency, cpus);
        assert_eq!(config.api_password_hash_wait, Duration::from_millis(250));
        assert_eq!(
            config.api_trusted_proxies,
            mcpgate_api::TrustedProxies::default()
        );
        let set = SettingsArgs {
            api_password_hash_concurrency: Some(3),
            api_trusted_proxies: Some("10.0.0.0/8, 192.168.1.7".into()),
            ..Default::default()
        }
        .load()
        .unwrap();
        assert_eq!(set.api_password_hash_concurrency, 3);
        assert_ne!(
            set.api_trusted_proxies,
            mcpgate_api::TrustedProxies::default()
        );
        for bad in [
            SettingsArgs {
                api_password_hash_concurrency: Some(0),
                ..Default::default()
            },
            SettingsArgs {
                api_trusted_proxies: Some("10.0.0.0/40".into()),
                ..Default::default()
            },
        ] {
            let error = bad.load().unwrap_err().to_string();
            assert!(error.contains("MCPGATE_API_"), "{error}");
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir =
            std::env::temp_dir().join(format!("mcpgate-config-unknown-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mcpgate.toml");
        std::fs::write(&path, "databse_url = \"postgres://x\"\n").unwrap();
        let args = SettingsArgs {
            config: Some(path),
            ..Default::default()
        };
        let error = args.load().unwrap_err().to_string();
        assert!(error.contains("databse_url"), "{error}");
    }
}
