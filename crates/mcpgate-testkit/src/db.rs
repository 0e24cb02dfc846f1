//! A fresh database and a private Redis for one test.

use std::time::Duration;

use mcpgate_local::{LocalRedis, RedisOptions};
use mcpgate_store::{PgPool, PostgresSettings};

/// The variable `scripts/test.sh` sets to the shared test server's admin URL.
pub const TEST_DATABASE_URL: &str = "MCPGATE_TEST_DATABASE_URL";

/// A database of its own, migrated, for one test.
#[derive(Debug)]
pub struct TestDb {
    /// A pool on it.
    pub pool: PgPool,
    /// Its URL.
    pub url: String,
}

/// Creates a database with a unique name on the shared test server and applies
/// every migration.
///
/// # Panics
/// When `MCPGATE_TEST_DATABASE_URL` is unset or the server is unreachable: the
/// message says to run the suite through `scripts/test.sh`.
pub async fn fresh_database() -> TestDb {
    let admin = std::env::var(TEST_DATABASE_URL).unwrap_or_else(|_| {
        panic!(
            "{TEST_DATABASE_URL} is not set. Run the tests with `scripts/test.sh`, which starts \
             a private PostgreSQL and sets it; or point it at a server where you may create \
             databases, e.g. postgres://user@127.0.0.1:5432/postgres"
        )
    });
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let url = format!("{base}/{name}");
    mcpgate_store::ensure_database(&url)
        .await
        .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
    let pool = mcpgate_store::connect_postgres(&PostgresSettings {
        url: url.clone(),
        max_connections: 5,
        connect_timeout: Duration::from_secs(10),
    })
    .await
    .expect("connecting to the test database");
    mcpgate_store::migrate(&pool)
        .await
        .expect("migrating the test database");
    TestDb { pool, url }
}

/// A Redis server of this test's own; stopped when dropped.
#[derive(Debug)]
pub struct TestRedis {
    server: Option<LocalRedis>,
    url: String,
}

impl TestRedis {
    /// A Redis this test did not start (a [`crate::TestCluster`] or
    /// [`crate::TestSentinel`]'s URL, which owns the processes); `kill` does nothing.
    pub fn external(url: impl Into<String>) -> Self {
        Self {
            server: None,
            url: url.into(),
        }
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Kills the server, as a crash would.
    pub async fn kill(&mut self) {
        if let Some(server) = self.server.take() {
            server.kill().await;
        }
    }
}

/// Starts a throwaway Redis on a free loopback port.
///
/// # Panics
/// When `redis-server` is missing or does not start.
pub async fn fresh_redis() -> TestRedis {
    let server = LocalRedis::start(RedisOptions {
        port: mcpgate_local::free_port().expect("a free port"),
        data_dir: None,
        startup_timeout: Duration::from_secs(10),
    })
    .await
    .unwrap_or_else(|e| panic!("starting a test Redis: {e}"));
    let url = server.url();
    TestRedis {
        server: Some(server),
        url,
    }
}
