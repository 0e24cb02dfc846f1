//! Real Redis topologies on loopback for one test: a Redis Cluster
//! ([`TestCluster`]) and a Sentinel set ([`TestSentinel`]). Each node is a child
//! process killed when the topology is dropped; its files live in a temporary folder.

mod cluster;
mod sentinel;
mod tls;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

pub use cluster::TestCluster;
pub use sentinel::TestSentinel;
pub use tls::TestTlsRedis;

/// A `redis-server` (or `redis-sentinel`) child on a loopback port.
#[derive(Debug)]
struct Node {
    port: u16,
    child: Option<Child>,
}

impl Node {
    /// Starts `program` with `args` and waits until the port answers PING.
    async fn start(program: &str, args: &[String], port: u16, dir: &Path) -> Self {
        let node = Self::spawn(program, args, port, dir);
        let log = dir.join(format!("{port}.log"));
        let answered = eventually(Duration::from_secs(10), || async {
            let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else {
                return false;
            };
            match client.get_multiplexed_async_connection().await {
                Ok(mut connection) => redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok(),
                Err(_) => false,
            }
        })
        .await;
        assert!(
            answered,
            "{program} on port {port} did not answer PING; its log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        node
    }

    /// Starts `program` with `args`, logging to `<dir>/<port>.log`, without waiting.
    fn spawn(program: &str, args: &[String], port: u16, dir: &Path) -> Self {
        let log = dir.join(format!("{port}.log"));
        let child = Command::new(program)
            .args(args)
            .arg("--logfile")
            .arg(&log)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program} on port {port}: {e}"));
        Self {
            port,
            child: Some(child),
        }
    }

    /// Kills the process (SIGKILL, as a crash) and waits for it to be gone.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

/// Kills the node of `nodes` on `port` (SIGKILL, as a crash would).
async fn kill_on(nodes: &mut [Node], port: u16) {
    nodes
        .iter_mut()
        .find(|node| node.port == port)
        .unwrap_or_else(|| panic!("no Redis node on port {port}"))
        .kill()
        .await;
}

/// How many clients are subscribed to `channel`, summed over the nodes on `ports`.
async fn subscribers_on(ports: Vec<u16>, channel: &str) -> usize {
    let mut total = 0;
    for port in ports {
        let counts: Vec<(String, usize)> =
            ask(port, redis::cmd("PUBSUB").arg("NUMSUB").arg(channel))
                .await
                .unwrap_or_default();
        total += counts.iter().map(|(_, count)| count).sum::<usize>();
    }
    total
}

/// A temporary folder, removed on drop.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("mcpgate-{what}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("creating a temporary folder");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    mcpgate_local::free_port().expect("a free loopback port")
}

/// A command to the node on `port`, on a connection of its own.
async fn ask<T: redis::FromRedisValue>(port: u16, command: &redis::Cmd) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Duration::from_millis(500))
        .set_response_timeout(Duration::from_secs(2));
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    command.query_async(&mut connection).await
}

/// Polls `condition` every 50 ms until it holds (`true`) or `within` passes (`false`).
async fn eventually<F, Fut>(within: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
