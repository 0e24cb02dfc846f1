//! The Postgres pool and the schema migrations.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

pub use sqlx::PgPool;

use crate::StoreError;

/// How to reach Postgres.
#[derive(Debug, Clone)]
pub struct PostgresSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// The pool's maximum number of connections.
    pub max_connections: u32,
    /// How long to keep retrying the first connection (the database may still be
    /// starting, e.g. in a compose file).
    pub connect_timeout: Duration,
}

/// Connects a pool, retrying until `connect_timeout` passes.
pub async fn connect_postgres(settings: &PostgresSettings) -> Result<PgPool, StoreError> {
    let options = connect_options(&settings.url)?;
    let deadline = Instant::now() + settings.connect_timeout;
    loop {
        let attempt = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await;
        match attempt {
            Ok(pool) => return Ok(pool),
            Err(err) if Instant::now() < deadline && is_transient(&err) => {
                tracing::info!(error = %err, "waiting for postgres");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Creates the database named in `url` if it does not exist yet (used by `up`
/// and the test kit; production databases are created by their operators).
pub async fn ensure_database(url: &str) -> Result<(), StoreError> {
    let options = connect_options(url)?;
    let name = database_name(&options)?;
    let mut admin = options.database("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {}", quoted_identifier(&name)))
            .execute(&mut admin)
            .await?;
    }
    admin.close().await?;
    Ok(())
}

/// Drops the database named in `url`, if it exists, ending any session still on it
/// (the test kit's throwaway databases: a whole test run would otherwise leave
/// gigabytes of them behind).
pub async fn drop_database(url: &str) -> Result<(), StoreError> {
    let options = connect_options(url)?;
    let name = database_name(&options)?;
    let mut admin = options.database("postgres").connect().await?;
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quoted_identifier(&name)
    ))
    .execute(&mut admin)
    .await?;
    admin.close().await?;
    Ok(())
}

/// The database a URL names.
fn database_name(options: &PgConnectOptions) -> Result<String, StoreError> {
    options
        .get_database()
        .map(str::to_owned)
        .ok_or_else(|| StoreError::InvalidUrl {
            what: "database",
            reason: "it names no database".into(),
        })
}

/// An SQL identifier, quoted: identifiers cannot be bound as parameters.
fn quoted_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Applies every migration in `migrations/` that has not been applied yet.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::migrate!("../../migrations").run(pool).await?;
    Ok(())
}

fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url)
        .map(|options| options.log_statements(tracing::log::LevelFilter::Trace))
        .map_err(|err| StoreError::InvalidUrl {
            what: "database",
            reason: err.to_string(),
        })
}

fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        // 57P03: "the database system is starting up".
        sqlx::Error::Database(db) => db.code().as_deref() == Some("57P03"),
        _ => false,
    }
}

/// `SELECT 1` on a pooled connection.
pub async fn ping_postgres(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
