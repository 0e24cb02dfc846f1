//! The Redis connection shared by a process: one node, a Redis Cluster, or a master
//! watched by Sentinel, as `MCPGATE_REDIS_URL` says (`redis://`, `redis+cluster://`,
//! `redis+sentinel://`, each also over TLS as `rediss…`; the syntax is documented in
//! `redis_conn/target.rs` and the README, the certificates trusted in `redis_conn/tls.rs`).
//!
//! Every topology hands out the same [`RedisConnection`], so callers send commands
//! and scripts without knowing which one runs. On a cluster every command or script
//! must keep its keys in one slot: every key mcpgate writes carries the tenant as its
//! hash tag (`rl:{<tenant>}:...`), so all keys of one call hash alike.

mod script;
mod sentinel;
mod target;
mod tls;

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, IntoConnectionInfo, Pipeline, RedisFuture, Value};
use serde::Serialize;

pub use script::{AtomicScript, ScriptCall};
use sentinel::SentinelSet;
use target::{NodeAddr, NodeAuth, RedisTarget};
pub use tls::RedisTrust;

use crate::StoreError;

/// How long to wait for a connection or an answer before calling a node dead: short,
/// so a dead Redis is noticed in milliseconds.
const NODE_TIMEOUT: Duration = Duration::from_millis(500);

/// A cheap-to-clone handle on the process's Redis, which reconnects by itself after a
/// node restarts, follows a cluster's slot moves and a Sentinel failover.
#[derive(Clone)]
pub struct Redis {
    topology: Arc<Topology>,
}

enum Topology {
    Single {
        client: redis::Client,
        manager: ConnectionManager,
    },
    Cluster {
        seeds: Vec<NodeAddr>,
        auth: NodeAuth,
        trust: RedisTrust,
        connection: ClusterConnection,
    },
    Sentinel(Arc<SentinelSet>),
}

/// A connection from [`Redis::connection`]; clone it per task.
#[derive(Clone)]
pub struct RedisConnection(Connection);

#[derive(Clone)]
enum Connection {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Connection::Node(_) => "RedisConnection::Node",
            Connection::Cluster(_) => "RedisConnection::Cluster",
        })
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Connection::Node(connection) => connection.req_packed_command(cmd),
            Connection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Connection::Node(connection) => connection.req_packed_commands(cmd, offset, count),
            Connection::Cluster(connection) => connection.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Connection::Node(connection) => connection.get_db(),
            Connection::Cluster(connection) => connection.get_db(),
        }
    }
}

/// Which topology a process runs on, as readiness reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedisTopology {
    /// `single`, `cluster` or `sentinel`.
    pub kind: &'static str,
    /// A cluster's seed nodes, or the sentinels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// The Sentinel master's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_name: Option<String>,
    /// The node used as master now (Sentinel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// Whether every connection is TLS (a `rediss…` URL).
    pub tls: bool,
}

impl RedisTopology {
    /// What `url` names, read exactly as [`connect_redis`] reads it but without
    /// connecting (so no Sentinel master is known yet): how the deployment checks
    /// parse the `MCPGATE_REDIS_URL` a chart renders.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        let list = |nodes: &[NodeAddr]| nodes.iter().map(ToString::to_string).collect();
        let target = RedisTarget::parse(url)?;
        let tls = target.tls();
        Ok(match target {
            RedisTarget::Single(url) => Self {
                kind: "single",
                nodes: vec![single_node_info(&url)?.addr.to_string()],
                master_name: None,
                master: None,
                tls,
            },
            RedisTarget::Cluster { seeds, .. } => Self {
                kind: "cluster",
                nodes: list(&seeds),
                master_name: None,
                master: None,
                tls,
            },
            RedisTarget::Sentinel {
                sentinels,
                master_name,
                ..
            } => Self {
                kind: "sentinel",
                nodes: list(&sentinels),
                master_name: Some(master_name),
                master: None,
                tls,
            },
        })
    }
}

/// A one-node URL as the redis crate reads it; its errors are the URL's.
fn single_node_info(url: &str) -> Result<redis::ConnectionInfo, StoreError> {
    url.into_connection_info()
        .map_err(|err| StoreError::InvalidUrl {
            what: "redis",
            reason: err.to_string(),
        })
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("topology", &self.topology())
            .finish()
    }
}

impl Redis {
    /// A multiplexed connection; clone it per task.
    pub fn connection(&self) -> RedisConnection {
        RedisConnection(match &*self.topology {
            Topology::Single { manager, .. } => Connection::Node(manager.clone()),
            Topology::Cluster { connection, .. } => Connection::Cluster(connection.clone()),
            Topology::Sentinel(set) => Connection::Node(set.connection()),
        })
    }

    /// A handle whose single-node connection is opened on the calling runtime, so its
    /// driver task runs there and a command's answer wakes no other thread: what each of
    /// the proxy's serving threads uses. A cluster or Sentinel handle is shared as it is
    /// (their connections follow slot moves and failovers, kept once per process).
    pub async fn for_this_runtime(&self) -> Result<Redis, StoreError> {
        match &*self.topology {
            Topology::Single { client, .. } => {
                let manager =
                    ConnectionManager::new_with_config(client.clone(), manager_config()).await?;
                Ok(Redis {
                    topology: Arc::new(Topology::Single {
                        client: client.clone(),
                        manager,
                    }),
                })
            }
            Topology::Cluster { .. } | Topology::Sentinel(_) => Ok(self.clone()),
        }
    }

    /// The topology and its nodes.
    pub fn topology(&self) -> RedisTopology {
        let list = |nodes: &[NodeAddr]| nodes.iter().map(ToString::to_string).collect();
        match &*self.topology {
            Topology::Single { client, .. } => RedisTopology {
                kind: "single",
                nodes: vec![client.get_connection_info().addr.to_string()],
                master_name: None,
                master: None,
                tls: matches!(
                    client.get_connection_info().addr,
                    redis::ConnectionAddr::TcpTls { .. }
                ),
            },
            Topology::Cluster { seeds, auth, .. } => RedisTopology {
                kind: "cluster",
                nodes: list(seeds),
                master_name: None,
                master: None,
                tls: auth.tls,
            },
            Topology::Sentinel(set) => RedisTopology {
                kind: "sentinel",
                nodes: list(set.sentinels()),
                master_name: Some(set.master_name().to_owned()),
                master: Some(set.master_addr().to_string()),
                tls: set.tls(),
            },
        }
    }

    /// A dedicated pub/sub connection. On a cluster any node hears every `PUBLISH`
    /// (the cluster bus forwards them), so the first seed that answers is used; on
    /// Sentinel, the current master.
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub, StoreError> {
        match &*self.topology {
            Topology::Single { client, .. } => Ok(client.get_async_pubsub().await?),
            Topology::Sentinel(set) => Ok(set.master_client()?.get_async_pubsub().await?),
            Topology::Cluster {
                seeds, auth, trust, ..
            } => {
                let mut last_error = None;
                for seed in seeds {
                    let client = trust.client(auth.connection_info(seed))?;
                    match tokio::time::timeout(NODE_TIMEOUT * 2, client.get_async_pubsub()).await {
                        Ok(Ok(pubsub)) => return Ok(pubsub),
                        Ok(Err(error)) => last_error = Some(StoreError::Redis(error)),
                        Err(_) => {
                            last_error = Some(StoreError::Timeout {
                                what: "a Redis Cluster node",
                                after: NODE_TIMEOUT * 2,
                            });
                        }
                    }
                }
                Err(last_error.unwrap_or(StoreError::InvalidUrl {
                    what: "redis",
                    reason: "no cluster node".into(),
                }))
            }
        }
    }

    /// `PING` (on a cluster, every master), bounded by `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        let mut conn = self.connection();
        let pong =
            tokio::time::timeout(timeout, redis::cmd("PING").query_async::<String>(&mut conn))
                .await
                .map_err(|_| StoreError::Timeout {
                    what: "redis PING",
                    after: timeout,
                })??;
        debug_assert_eq!(pong, "PONG");
        Ok(())
    }
}

/// Connects to the Redis `url` names, retrying until `connect_timeout` passes; TLS
/// (`rediss…`) trusts the public CAs. A malformed URL is refused at once.
pub async fn connect_redis(url: &str, connect_timeout: Duration) -> Result<Redis, StoreError> {
    connect_redis_trusting(url, &RedisTrust::default(), connect_timeout).await
}

/// [`connect_redis`], with TLS trusting `trust`. A malformed URL, a private CA with a
/// URL that is not TLS, and a server certificate the trusted CAs did not sign are
/// refused at once (no retry can mend them).
pub async fn connect_redis_trusting(
    url: &str,
    trust: &RedisTrust,
    connect_timeout: Duration,
) -> Result<Redis, StoreError> {
    let target = RedisTarget::parse(url)?;
    if trust.has_private_ca() && !target.tls() {
        return Err(StoreError::InvalidUrl {
            what: "redis",
            reason: "a private CA (MCPGATE_REDIS_CA_FILE) is set but the URL is not TLS: \
                     use rediss://, rediss+cluster:// or rediss+sentinel://"
                .into(),
        });
    }
    let deadline = Instant::now() + connect_timeout;
    loop {
        match connect_once(&target, trust)
            .await
            .map_err(tls::name_refused_certificate)
        {
            Ok(topology) => {
                return Ok(Redis {
                    topology: Arc::new(topology),
                })
            }
            Err(err @ (StoreError::InvalidUrl { .. } | StoreError::RedisTls { .. })) => {
                return Err(err)
            }
            Err(err) if Instant::now() < deadline => {
                tracing::info!(error = %err, topology = target.kind(), "waiting for redis");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(NODE_TIMEOUT)
        .set_response_timeout(NODE_TIMEOUT)
        .set_number_of_retries(1)
        .set_max_delay(1_000)
}

async fn connect_once(target: &RedisTarget, trust: &RedisTrust) -> Result<Topology, StoreError> {
    match target {
        RedisTarget::Single(url) => {
            let client = trust.client(single_node_info(url)?)?;
            let manager =
                ConnectionManager::new_with_config(client.clone(), manager_config()).await?;
            Ok(Topology::Single { client, manager })
        }
        RedisTarget::Cluster { seeds, auth } => {
            let nodes: Vec<redis::ConnectionInfo> = seeds
                .iter()
                .map(|seed| auth.connection_info(seed))
                .collect();
            // Few, short retries: a call on a dead master fails within the limiter's
            // timeout instead of waiting out the crate's default backoff (16 retries).
            let mut builder = redis::cluster::ClusterClientBuilder::new(nodes)
                .connection_timeout(NODE_TIMEOUT)
                .response_timeout(NODE_TIMEOUT)
                .retries(3)
                .min_retry_wait(50)
                .max_retry_wait(400);
            if let Some(certificates) = trust.certificates() {
                builder = builder.certs(certificates);
            }
            let connection = builder.build()?.get_async_connection().await?;
            Ok(Topology::Cluster {
                seeds: seeds.clone(),
                auth: auth.clone(),
                trust: trust.clone(),
                connection,
            })
        }
        RedisTarget::Sentinel {
            sentinels,
            master_name,
            auth,
        } => Ok(Topology::Sentinel(
            SentinelSet::connect(
                sentinels.clone(),
                master_name.clone(),
                auth.clone(),
                trust.clone(),
                manager_config(),
            )
            .await?,
        )),
    }
}
