//! A Sentinel set on loopback: one master, one replica and three sentinels
//! (Debian's `redis-sentinel`, or `redis-server --sentinel` where it is absent).

use std::time::Duration;

use super::{ask, eventually, free_port, kill_on, subscribers_on, Node, TempDir};

/// The master's name, as the sentinels know it.
pub const MASTER_NAME: &str = "mymaster";

/// How long the master may be silent before a sentinel calls it down; short, so a
/// test's failover takes a few seconds.
const DOWN_AFTER_MS: u64 = 1000;

/// A running Sentinel set; every process is killed when dropped.
#[derive(Debug)]
pub struct TestSentinel {
    data: Vec<Node>,
    sentinels: Vec<Node>,
    _dir: TempDir,
}

impl TestSentinel {
    /// Starts a master, a replica in sync with it, and three sentinels that know both
    /// and each other (so a failover can be authorised by a majority).
    ///
    /// # Panics
    /// When `redis-server` is missing or the set does not come together.
    pub async fn start() -> Self {
        let dir = TempDir::new("sentinel");
        let master_port = free_port();
        let master = Node::start(
            "redis-server",
            &data_args(master_port, None),
            master_port,
            &dir.0,
        )
        .await;
        let replica_port = free_port();
        let replica = Node::start(
            "redis-server",
            &data_args(replica_port, Some(master_port)),
            replica_port,
            &dir.0,
        )
        .await;
        assert!(
            eventually(Duration::from_secs(10), || async {
                ask::<String>(replica_port, redis::cmd("INFO").arg("replication"))
                    .await
                    .is_ok_and(|info| info.contains("master_link_status:up"))
            })
            .await,
            "the replica did not sync with the master"
        );
        let (program, sentinel_flag) = if mcpgate_local::find_on_path("redis-sentinel").is_some() {
            ("redis-sentinel", None)
        } else {
            ("redis-server", Some("--sentinel"))
        };
        let mut sentinels = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let config = dir.0.join(format!("sentinel-{port}.conf"));
            std::fs::write(
                &config,
                format!(
                    "port {port}\nbind 127.0.0.1\ndaemonize no\n\
                     sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n\
                     sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n\
                     sentinel failover-timeout {MASTER_NAME} 10000\n\
                     sentinel parallel-syncs {MASTER_NAME} 1\n"
                ),
            )
            .expect("writing a sentinel's configuration");
            let mut args = vec![config.display().to_string()];
            args.extend(sentinel_flag.map(str::to_owned));
            sentinels.push(Node::start(program, &args, port, &dir.0).await);
        }
        let set = Self {
            data: vec![master, replica],
            sentinels,
            _dir: dir,
        };
        assert!(
            set.wait_ready(Duration::from_secs(20)).await,
            "the sentinels did not find the replica and each other"
        );
        set
    }

    /// `redis+sentinel://<sentinels>/mymaster`.
    pub fn url(&self) -> String {
        let sentinels: Vec<String> = self
            .sentinels
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        format!("redis+sentinel://{}/{MASTER_NAME}", sentinels.join(","))
    }

    /// The port of the node the sentinels call master now.
    pub async fn master_port(&self) -> u16 {
        let (_, port): (String, u16) = ask(
            self.sentinels[0].port,
            redis::cmd("SENTINEL")
                .arg("get-master-addr-by-name")
                .arg(MASTER_NAME),
        )
        .await
        .expect("SENTINEL get-master-addr-by-name");
        port
    }

    /// The ports of the master and replica processes still running.
    pub fn live_data_ports(&self) -> Vec<u16> {
        self.data
            .iter()
            .filter(|node| node.child.is_some())
            .map(|node| node.port)
            .collect()
    }

    /// How many clients are subscribed to `channel`, summed over the live nodes.
    pub async fn subscribers(&self, channel: &str) -> usize {
        subscribers_on(self.live_data_ports(), channel).await
    }

    /// Kills the data node on `port` (master or replica), as a crash would.
    pub async fn kill(&mut self, port: u16) {
        kill_on(&mut self.data, port).await;
    }

    /// Waits until every sentinel knows the replica and the two other sentinels.
    async fn wait_ready(&self, within: Duration) -> bool {
        let ports: Vec<u16> = self.sentinels.iter().map(|node| node.port).collect();
        eventually(within, || async {
            for port in &ports {
                let replicas: redis::RedisResult<Vec<redis::Value>> = ask(
                    *port,
                    redis::cmd("SENTINEL").arg("replicas").arg(MASTER_NAME),
                )
                .await;
                let others: redis::RedisResult<Vec<redis::Value>> = ask(
                    *port,
                    redis::cmd("SENTINEL").arg("sentinels").arg(MASTER_NAME),
                )
                .await;
                if !matches!((replicas, others), (Ok(r), Ok(o)) if r.len() == 1 && o.len() == 2) {
                    return false;
                }
            }
            true
        })
        .await
    }
}

fn data_args(port: u16, replica_of: Option<u16>) -> Vec<String> {
    let mut args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    if let Some(master) = replica_of {
        args.extend(["--replicaof".into(), "127.0.0.1".into(), master.to_string()]);
    }
    args
}
