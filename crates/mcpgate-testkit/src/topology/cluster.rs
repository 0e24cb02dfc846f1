//! A Redis Cluster on loopback: `redis-server --cluster-enabled yes` nodes joined by
//! `redis-cli --cluster create`.

use std::time::Duration;

use super::{ask, eventually, free_port, kill_on, subscribers_on, Node, TempDir};

/// How long a node may be silent before the cluster calls it failed; short, so a
/// test's failover takes about two seconds.
const NODE_TIMEOUT_MS: u64 = 1000;

/// A running cluster; every node is killed when dropped.
#[derive(Debug)]
pub struct TestCluster {
    nodes: Vec<Node>,
    _dir: TempDir,
}

impl TestCluster {
    /// Starts `masters` masters with `replicas` replicas each, creates the cluster and
    /// waits until every node reports it healthy and every replica is in sync.
    ///
    /// # Panics
    /// When `redis-server` or `redis-cli` is missing or the cluster does not form.
    pub async fn start(masters: usize, replicas: usize) -> Self {
        let dir = TempDir::new("cluster");
        let mut nodes = Vec::new();
        for _ in 0..masters * (1 + replicas) {
            let (port, bus) = (free_port(), free_port());
            let args: Vec<String> = [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                &bus.to_string(),
                "--cluster-config-file",
                &format!("nodes-{port}.conf"),
                "--cluster-node-timeout",
                &NODE_TIMEOUT_MS.to_string(),
                // A replica that lost its master for a while may still take over.
                "--cluster-replica-validity-factor",
                "0",
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
            nodes.push(Node::start("redis-server", &args, port, &dir.0).await);
        }
        let mut create = tokio::process::Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let output = create
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .await
            .expect("running redis-cli --cluster create");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let cluster = Self { nodes, _dir: dir };
        assert!(
            cluster.wait_healthy(Duration::from_secs(20)).await,
            "the cluster did not become healthy"
        );
        cluster
    }

    /// `redis+cluster://` with every node as a seed.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// The ports of the nodes still running.
    pub fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|node| node.child.is_some())
            .map(|node| node.port)
            .collect()
    }

    /// The slot of `key`, as the cluster computes it (`CLUSTER KEYSLOT`).
    pub async fn key_slot(&self, key: &str) -> u16 {
        ask(
            self.any_live_port(),
            redis::cmd("CLUSTER").arg("KEYSLOT").arg(key),
        )
        .await
        .expect("CLUSTER KEYSLOT")
    }

    /// The port of the master serving `key`'s slot now.
    pub async fn master_of(&self, key: &str) -> u16 {
        let slot = self.key_slot(key).await;
        let nodes: String = ask(self.any_live_port(), redis::cmd("CLUSTER").arg("NODES"))
            .await
            .expect("CLUSTER NODES");
        nodes
            .lines()
            .filter_map(parse_master_line)
            .find(|(_, ranges)| {
                ranges
                    .iter()
                    .any(|(from, to)| (*from..=*to).contains(&slot))
            })
            .map(|(port, _)| port)
            .unwrap_or_else(|| panic!("no master serves slot {slot}: {nodes}"))
    }

    /// How many clients are subscribed to `channel`, summed over the live nodes.
    pub async fn subscribers(&self, channel: &str) -> usize {
        subscribers_on(self.live_ports(), channel).await
    }

    /// Kills the node on `port`, as a crash would.
    pub async fn kill(&mut self, port: u16) {
        kill_on(&mut self.nodes, port).await;
    }

    /// Waits until every live node says `cluster_state:ok`, knows the same number of
    /// nodes, and every live replica's link to its master is up.
    pub async fn wait_healthy(&self, within: Duration) -> bool {
        let ports = self.live_ports();
        eventually(within, || async {
            for port in &ports {
                let Ok(info) = ask::<String>(*port, redis::cmd("CLUSTER").arg("INFO")).await else {
                    return false;
                };
                if !info.contains("cluster_state:ok") {
                    return false;
                }
                let Ok(replication) =
                    ask::<String>(*port, redis::cmd("INFO").arg("replication")).await
                else {
                    return false;
                };
                if replication.contains("role:slave")
                    && !replication.contains("master_link_status:up")
                {
                    return false;
                }
            }
            true
        })
        .await
    }

    fn any_live_port(&self) -> u16 {
        *self.live_ports().first().expect("a live node")
    }
}

/// `(port, slot ranges)` of a healthy master's `CLUSTER NODES` line.
fn parse_master_line(line: &str) -> Option<(u16, Vec<(u16, u16)>)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let flags = fields.get(2)?;
    if !flags.split(',').any(|flag| flag == "master") || flags.contains("fail") {
        return None;
    }
    let address = fields.get(1)?.split('@').next()?;
    let port = address.rsplit(':').next()?.parse().ok()?;
    let ranges = fields
        .iter()
        .skip(8)
        .filter(|field| !field.starts_with('['))
        .filter_map(|range| match range.split_once('-') {
            Some((from, to)) => Some((from.parse().ok()?, to.parse().ok()?)),
            None => range.parse().ok().map(|slot| (slot, slot)),
        })
        .collect();
    Some((port, ranges))
}
