//! The real API and proxy, on port 0, against a fresh database and Redis.

use std::net::SocketAddr;
use std::time::Duration;

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

/// Starts the API and the proxy on `127.0.0.1:0` against a fresh database and a
/// Redis of their own.
pub async fn spawn_app() -> TestApp {
    mcpgate_service::init_telemetry(mcpgate_service::LogFormat::Text, "warn");
    let db = fresh_database().await;
    let redis = fresh_redis().await;
    let redis_conn = mcpgate_store::connect_redis(redis.url(), Duration::from_secs(5))
        .await
        .expect("connecting to the test Redis");
    let stop = CancellationToken::new();

    let any_port: SocketAddr = "127.0.0.1:0".parse().expect("a loopback address");
    let proxy = mcpgate_proxy::Application::build(
        mcpgate_proxy::ProxySettings { listen: any_port },
        mcpgate_proxy::ProxyDeps {
            db: db.pool.clone(),
            redis: redis_conn.clone(),
        },
    )
    .await
    .expect("building the proxy");
    let proxy_addr = proxy.local_addr().expect("the proxy's address");
    let api = mcpgate_api::Application::build(
        mcpgate_api::ApiSettings {
            listen: any_port,
            public_proxy_url: format!("http://{proxy_addr}"),
        },
        mcpgate_api::ApiDeps {
            db: db.pool.clone(),
            redis: redis_conn.clone(),
        },
    )
    .await
    .expect("building the API");
    let api_addr = api.local_addr().expect("the API's address");
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
        stop,
    }
}
