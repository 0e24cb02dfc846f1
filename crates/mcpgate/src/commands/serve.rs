//! `mcpgate api`, `mcpgate proxy` and `mcpgate migrate`: the services as they run
//! in production, against a database and Redis run by someone else.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use mcpgate_store::{PgPool, PostgresSettings, Redis};

use crate::config::Config;

/// How long services keep retrying their first connection to Postgres or Redis.
const CONNECT_PATIENCE: Duration = Duration::from_secs(30);

pub async fn api(config: Config) -> anyhow::Result<()> {
    let (db, redis) = connect(&config, "api").await?;
    mcpgate_store::migrate(&db)
        .await
        .context("applying migrations")?;
    serve_api(&config, db, redis, mcpgate_service::shutdown_signal()).await
}

pub async fn proxy(config: Config) -> anyhow::Result<()> {
    let (db, redis) = connect(&config, "proxy").await?;
    serve_proxy(&config, db, redis, mcpgate_service::shutdown_signal()).await
}

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let url = config.require_database_url("migrate")?;
    let db = connect_db(url).await?;
    mcpgate_store::migrate(&db)
        .await
        .context("applying migrations")?;
    tracing::info!("migrations applied");
    Ok(())
}

/// Builds and serves the API until `shutdown` resolves.
pub async fn serve_api(
    config: &Config,
    db: PgPool,
    redis: Redis,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let settings = mcpgate_api::ApiSettings {
        listen: config.api_listen,
        public_proxy_url: config.public_proxy_url.clone(),
        public_api_url: config.public_api_url.clone(),
        allow_private_upstreams: config.allow_private_upstreams(),
        refused_upstreams: own_addresses(config.proxy_listen, &config.public_proxy_url),
        password_hash_concurrency: config.api_password_hash_concurrency,
        password_hash_wait: config.api_password_hash_wait,
        trusted_proxies: config.api_trusted_proxies.clone(),
        grant_signing_key: config.grant_signing_key("api")?,
        secret_key: config.secret_key("api")?,
        catalog_resync_interval: config.api_catalog_resync_interval,
        catalog_resync_cooldown: config.api_catalog_resync_cooldown,
        oauth_access_token_lifetime: config.api_oauth_access_token_lifetime,
        upstream_oauth_refresh_margin: config.api_upstream_oauth_refresh_margin,
        audit_retention: config.audit_retention,
        audit_export: config.audit_export,
        smtp: config.smtp.clone(),
    };
    let app = mcpgate_api::Application::build(settings, mcpgate_api::ApiDeps { db, redis })
        .await
        .with_context(|| format!("binding the API to {}", config.api_listen))?;
    app.run(shutdown).await.context("serving the API")
}

/// Builds and serves the proxy until `shutdown` resolves.
pub async fn serve_proxy(
    config: &Config,
    db: PgPool,
    redis: Redis,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut settings = mcpgate_proxy::ProxySettings {
        allow_private_upstreams: config.allow_private_upstreams(),
        refused_upstreams: own_addresses(config.api_listen, &config.public_api_url),
        drain_timeout: config.proxy_drain,
        approval_keep_alive: config.proxy_approval_keep_alive,
        approval_poll_interval: config.proxy_approval_poll,
        token_cache_entries: config.proxy_token_cache_entries,
        audit_spool_dir: config.proxy_audit_spool_dir.clone(),
        max_upstream_message_bytes: config.proxy_max_upstream_message_bytes,
        max_batch_messages: config.proxy_max_batch_messages,
        body_read_timeout: config.proxy_body_read_timeout,
        max_held_calls_per_grant: config.proxy_max_held_calls_per_grant,
        max_streams_per_grant: config.proxy_max_streams_per_grant,
        metrics_token: config.proxy_metrics_token.clone(),
        authorization_server: Some(mcpgate_api::oauth_issuer(&config.public_api_url)),
        ..mcpgate_proxy::ProxySettings::new(
            config.proxy_listen,
            config.public_proxy_url.clone(),
            config.grant_verify_key("proxy")?,
            std::sync::Arc::new(config.secret_key("proxy")?),
        )
    };
    if let Some(threads) = config.proxy_threads {
        settings.serving_threads = threads;
    }
    let app = mcpgate_proxy::Application::build(settings, mcpgate_proxy::ProxyDeps { db, redis })
        .await
        .with_context(|| format!("binding the proxy to {}", config.proxy_listen))?;
    app.run(shutdown).await.context("serving the proxy")
}

/// The other service's addresses: each service refuses its own, and these, as upstreams.
fn own_addresses(listen: std::net::SocketAddr, public_url: &str) -> mcpgate_upstream::OwnAddresses {
    let mut own = mcpgate_upstream::OwnAddresses::new();
    own.add_listen(listen).add_url(public_url);
    own
}

async fn connect(config: &Config, command: &'static str) -> anyhow::Result<(PgPool, Redis)> {
    let db = connect_db(config.require_database_url(command)?).await?;
    let redis = mcpgate_store::connect_redis_trusting(
        config.require_redis_url(command)?,
        &config.redis_trust,
        CONNECT_PATIENCE,
    )
    .await
    .context("connecting to Redis")?;
    Ok((db, redis))
}

pub async fn connect_db(url: &str) -> anyhow::Result<PgPool> {
    mcpgate_store::connect_postgres(&PostgresSettings {
        url: url.to_owned(),
        max_connections: 20,
        connect_timeout: CONNECT_PATIENCE,
    })
    .await
    .context("connecting to PostgreSQL")
}
