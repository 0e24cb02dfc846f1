//! A fresh database and a private Redis for one test.

use std::time::Duration;

use mcpgate_local::{LocalRedis, RedisOptions};
use mcpgate_store::{PgPool, PostgresSettings};

/// The variable `scripts/test.sh` sets to the shared test server's admin URL.
pub const TEST_DATABASE_URL: &str = "MCPGATE_TEST_DATABASE_URL";

/// A database of its own, migrated, for one test; dropped with it.
///
/// Keep it alive for as long as the test reads the database: dropping it ends every
/// session on the database, including those of pools cloned from [`TestDb::pool`].
/// A test that panics keeps its database, to be looked at (its name is printed).
#[derive(Debug)]
pub struct TestDb {
    /// A pool on it.
    pub pool: PgPool,
    /// Its URL.
    pub url: String,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept the failed test's database: {}", self.url);
            return;
        }
        // Drop runs inside the test's runtime, which cannot block on a future; a
        // thread of its own can. Each database is ~10 MB on disk and a whole run
        // makes hundreds: left behind, they filled CI's disk (Postgres stopped and
        // the linker died with SIGBUS).
        let url = self.url.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(30), mcpgate_store::drop_database(&url))
                    .await
                    .map_err(|_| "timed out after 30 s".to_owned())?
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database {}: {e}", self.url),
            Err(_) => eprintln!("dropping the test database {} panicked", self.url),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn connect(url: &str) -> Result<PgPool, mcpgate_store::StoreError> {
        mcpgate_store::connect_postgres(&PostgresSettings {
            url: url.to_owned(),
            max_connections: 1,
            connect_timeout: Duration::ZERO,
        })
        .await
    }

    #[tokio::test]
    async fn a_test_database_is_dropped_with_its_test_db_and_its_open_sessions_ended() {
        let db = fresh_database().await;
        let url = db.url.clone();
        // A pool on it of the test's own, with a session open, does not keep it alive.
        let other = connect(&url).await.expect("the test database exists");
        let session = other.acquire().await.expect("a session on it");
        drop(db);
        let error = connect(&url)
            .await
            .expect_err("the test database is still there");
        assert!(
            error.to_string().contains("does not exist"),
            "connecting failed otherwise than for a missing database: {error}"
        );
        drop(session);
    }
}
