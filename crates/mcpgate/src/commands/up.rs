//! `mcpgate up`: the whole product on one machine. A private PostgreSQL and Redis
//! on free loopback ports, data kept in `--data-dir`, then the API, dashboard and
//! proxy in this process. Ctrl-C (or SIGTERM) stops the services, then Redis and
//! PostgreSQL, leaving nothing running.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use mcpgate_local::{LocalPostgres, LocalRedis, PostgresOptions, RedisOptions};
use tokio_util::sync::CancellationToken;

use crate::commands::demo::DemoArgs;
use crate::commands::serve;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Where PostgreSQL, Redis and generated keys keep their data; it persists
    /// across restarts.
    #[arg(long, default_value = ".mcpgate", value_name = "DIR")]
    data_dir: PathBuf,

    /// Start only PostgreSQL and Redis, and print their URLs (for the test suite,
    /// or to run `mcpgate api` and `mcpgate proxy` yourself).
    #[arg(long)]
    deps_only: bool,

    /// Also start the demo MCP server, to try the whole journey before you have an
    /// MCP server of your own.
    #[arg(long)]
    demo: bool,

    #[command(flatten)]
    demo_args: DemoArgs,

    /// Also write the URLs as `MCPGATE_DATABASE_URL=...` lines to this file once
    /// everything answers (for scripts).
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
}

/// The private database, named the same in every data folder.
const DATABASE: &str = "mcpgate";

pub async fn run(mut config: Config, args: UpArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data folder {}", args.data_dir.display()))?;
    let data_dir = std::path::absolute(&args.data_dir).context("resolving the data folder")?;

    let postgres = LocalPostgres::start(PostgresOptions {
        data_dir: data_dir.join("postgres"),
        port: mcpgate_local::free_port()?,
        startup_timeout: Duration::from_secs(60),
    })
    .await
    .context("starting the private PostgreSQL")?;
    let redis = match LocalRedis::start(RedisOptions {
        port: mcpgate_local::free_port()?,
        data_dir: Some(data_dir.join("redis")),
        startup_timeout: Duration::from_secs(20),
    })
    .await
    {
        Ok(redis) => redis,
        Err(error) => {
            postgres.stop().await;
            return Err(error).context("starting the private Redis");
        }
    };

    let outcome = serve_with(&mut config, &args, &data_dir, &postgres, &redis).await;

    redis.stop().await;
    postgres.stop().await;
    println!("mcpgate stopped; data kept in {}", data_dir.display());
    outcome
}

async fn serve_with(
    config: &mut Config,
    args: &UpArgs,
    data_dir: &Path,
    postgres: &LocalPostgres,
    redis: &LocalRedis,
) -> anyhow::Result<()> {
    let database_url = postgres.url(DATABASE);
    mcpgate_store::ensure_database(&database_url)
        .await
        .context("creating the mcpgate database")?;
    load_or_create_keys(config, data_dir)?;
    config.database_url = Some(database_url.clone());
    config.redis_url = Some(redis.url());
    config
        .proxy_audit_spool_dir
        .get_or_insert_with(|| data_dir.join("audit-spool"));
    allow_private_upstreams_unless_refused(config);

    let env = format!(
        "MCPGATE_DATABASE_URL={}\nMCPGATE_REDIS_URL={}\n",
        database_url,
        redis.url()
    );

    if args.deps_only {
        write_env_file(args.env_file.as_deref(), &env)?;
        println!(
            "PostgreSQL and Redis are running (data in {}):\n{env}Ctrl-C stops them.",
            data_dir.display()
        );
        mcpgate_service::shutdown_signal().await;
        return Ok(());
    }

    let db = serve::connect_db(&database_url).await?;
    mcpgate_store::migrate(&db)
        .await
        .context("applying migrations")?;
    let redis_conn = mcpgate_store::connect_redis(&redis.url(), Duration::from_secs(10))
        .await
        .context("connecting to the private Redis")?;

    let stop = CancellationToken::new();
    let api = tokio::spawn({
        let (config, db, redis_conn, stop) =
            (config.clone(), db.clone(), redis_conn.clone(), stop.clone());
        async move { serve::serve_api(&config, db, redis_conn, stop.cancelled_owned()).await }
    });
    let proxy = tokio::spawn({
        let (config, stop) = (config.clone(), stop.clone());
        async move { serve::serve_proxy(&config, db, redis_conn, stop.cancelled_owned()).await }
    });

    let demo = if args.demo {
        let (url, serve) = args.demo_args.bind(stop.clone().cancelled_owned()).await?;
        tokio::spawn(serve);
        Some(url)
    } else {
        None
    };

    let ready = tokio::select! {
        ready = wait_until_ready(config) => ready,
        () = mcpgate_service::shutdown_signal() => Err(anyhow::anyhow!("interrupted while starting")),
    };
    if ready.is_ok() {
        write_env_file(args.env_file.as_deref(), &env)?;
        let demo_line = demo
            .as_deref()
            .map(|url| format!("  Demo MCP:  {url}  (add it in the dashboard under Servers)\n"))
            .unwrap_or_default();
        println!(
            "\nmcpgate is up.\n  Dashboard: http://{api}/\n  API:       http://{api}/api/v1\n  Proxy:     {proxy}/mcp/<server-id>/\n{demo_line}  Data:      {data}\nCtrl-C stops everything.\n",
            api = config.api_listen,
            proxy = config.public_proxy_url,
            data = data_dir.display(),
        );
        tokio::select! {
            () = mcpgate_service::shutdown_signal() => {}
            () = stop.cancelled() => {}
        }
    }
    stop.cancel();
    let (api, proxy) = tokio::join!(api, proxy);
    ready?;
    api.context("the API task panicked")??;
    proxy.context("the proxy task panicked")??;
    Ok(())
}

/// Local development: the upstreams people try first run on this machine, so `up`
/// allows private upstreams, unless the configuration says `false` explicitly.
fn allow_private_upstreams_unless_refused(config: &mut Config) {
    config.allow_private_upstreams.get_or_insert(true);
}

/// Polls both services' `/readyz` until they answer 200 (or a service fails).
async fn wait_until_ready(config: &Config) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let urls = [
        format!("http://{}/readyz", config.api_listen),
        format!("http://{}/readyz", config.proxy_listen),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for url in &urls {
        loop {
            let ok = client
                .get(url)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ok {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("{url} did not become ready within a minute");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

fn write_env_file(path: Option<&Path>, env: &str) -> anyhow::Result<()> {
    if let Some(path) = path {
        // Write then rename, so a script polling for the file never reads half of it.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, env).with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Keys given in the configuration win; otherwise `up` keeps its own in the data
/// folder (readable by the owner only), made on the first start.
fn load_or_create_keys(config: &mut Config, data_dir: &Path) -> anyhow::Result<()> {
    let path = data_dir.join("keys.env");
    if !path.exists() {
        let contents = format!(
            "# Made by `mcpgate up` on first start. Keep private: these sign grant tokens\n\
             # and decrypt stored upstream credentials.\n\
             MCPGATE_GRANT_SIGNING_KEY={}\nMCPGATE_SECRET_KEY={}\n",
            mcpgate_auth::GrantSigningKey::generate().to_base64(),
            mcpgate_auth::SecretKey::generate().to_base64(),
        );
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut file| file.write_all(contents.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    for line in text.lines() {
        match line.split_once('=') {
            Some(("MCPGATE_GRANT_SIGNING_KEY", value)) if config.grant_signing_key.is_none() => {
                config.grant_signing_key = Some(value.trim().to_owned());
            }
            Some(("MCPGATE_SECRET_KEY", value)) if config.secret_key.is_none() => {
                config.secret_key = Some(value.trim().to_owned());
            }
            _ => {}
        }
    }
    // Fail here, at start-up, if a configured key is malformed.
    config.grant_verify_key("up")?;
    config.secret_key("up")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SettingsArgs;

    #[test]
    fn up_allows_private_upstreams_only_when_the_user_did_not_refuse_them() {
        let mut unset = SettingsArgs::default().load().unwrap();
        assert_eq!(unset.allow_private_upstreams, None);
        allow_private_upstreams_unless_refused(&mut unset);
        assert!(unset.allow_private_upstreams());

        // MCPGATE_ALLOW_PRIVATE_UPSTREAMS=false (or the flag, or the file) is honoured.
        let mut refused = SettingsArgs {
            allow_private_upstreams: Some(false),
            ..Default::default()
        }
        .load()
        .unwrap();
        assert_eq!(refused.allow_private_upstreams, Some(false));
        allow_private_upstreams_unless_refused(&mut refused);
        assert!(!refused.allow_private_upstreams());

        let mut allowed = SettingsArgs {
            allow_private_upstreams: Some(true),
            ..Default::default()
        }
        .load()
        .unwrap();
        allow_private_upstreams_unless_refused(&mut allowed);
        assert!(allowed.allow_private_upstreams());
    }
}
