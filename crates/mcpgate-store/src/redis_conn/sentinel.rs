//! A Sentinel-watched master: found by asking the sentinels, followed after a failover.
//!
//! The redis crate asks sentinels once per connection and does not follow a failover
//! by itself, so a watcher asks them again every [`WATCH_INTERVAL`] and, when they
//! name another master (and that node says it is one), swaps the shared connection
//! for one to it. Calls on the old master fail meanwhile (as on a dead single node);
//! a failover costs the sentinels' detection and election plus at most one interval.

use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::AsyncConnectionConfig;

use super::target::{NodeAddr, NodeAuth};
use super::tls::RedisTrust;
use crate::StoreError;

/// How often the watcher asks the sentinels which node is the master.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);
/// How long one sentinel or node may take to answer before the next is asked.
const ASK_TIMEOUT: Duration = Duration::from_millis(300);

/// The sentinels, the master's name and a connection to the node they call master.
pub(crate) struct SentinelSet {
    sentinels: Vec<NodeAddr>,
    master_name: String,
    auth: NodeAuth,
    trust: RedisTrust,
    manager_config: ConnectionManagerConfig,
    current: RwLock<Master>,
}

#[derive(Clone)]
struct Master {
    addr: NodeAddr,
    manager: ConnectionManager,
}

impl SentinelSet {
    /// Asks the sentinels for the master, connects to it and starts the watcher, which
    /// ends when the last handle on the set is dropped.
    pub(crate) async fn connect(
        sentinels: Vec<NodeAddr>,
        master_name: String,
        auth: NodeAuth,
        trust: RedisTrust,
        manager_config: ConnectionManagerConfig,
    ) -> Result<Arc<Self>, StoreError> {
        let mut asker = Asker::new(&sentinels, auth.sentinel(), trust.clone());
        let addr = asker.master_addr(&master_name).await?;
        let manager = connect_master(&auth, &trust, &addr, &manager_config).await?;
        let set = Arc::new(Self {
            sentinels,
            master_name,
            auth,
            trust,
            manager_config,
            current: RwLock::new(Master { addr, manager }),
        });
        tokio::spawn(watch(Arc::downgrade(&set), asker));
        Ok(set)
    }

    /// The connection to the current master; clone it per task.
    pub(crate) fn connection(&self) -> ConnectionManager {
        self.master().manager
    }

    /// The node currently used as master.
    pub(crate) fn master_addr(&self) -> NodeAddr {
        self.master().addr
    }

    /// The master's name, as the sentinels know it.
    pub(crate) fn master_name(&self) -> &str {
        &self.master_name
    }

    /// The sentinels asked.
    pub(crate) fn sentinels(&self) -> &[NodeAddr] {
        &self.sentinels
    }

    /// Whether the sentinels and the nodes are reached over TLS.
    pub(crate) fn tls(&self) -> bool {
        self.auth.tls
    }

    /// A client for the current master, for dedicated connections (pub/sub).
    pub(crate) fn master_client(&self) -> Result<redis::Client, StoreError> {
        self.trust
            .client(self.auth.connection_info(&self.master_addr()))
    }

    fn master(&self) -> Master {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn watch(set: Weak<SentinelSet>, mut asker: Asker) {
    loop {
        tokio::time::sleep(WATCH_INTERVAL).await;
        let Some(set) = set.upgrade() else { return };
        let Ok(addr) = asker.master_addr(&set.master_name).await else {
            continue;
        };
        if addr == set.master_addr() {
            continue;
        }
        match connect_master(&set.auth, &set.trust, &addr, &set.manager_config).await {
            Ok(manager) => {
                tracing::warn!(master = %addr, name = %set.master_name, "Redis Sentinel failover: following the new master");
                *set.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Master { addr, manager };
            }
            Err(error) => {
                tracing::info!(%error, master = %addr, "the new Redis master is not ready yet");
            }
        }
    }
}

/// Connects to `addr` and checks that it is a master (`ROLE`): right after a failover
/// a sentinel may still name a node that has not been promoted.
async fn connect_master(
    auth: &NodeAuth,
    trust: &RedisTrust,
    addr: &NodeAddr,
    config: &ConnectionManagerConfig,
) -> Result<ConnectionManager, StoreError> {
    let client = trust.client(auth.connection_info(addr))?;
    let mut manager = tokio::time::timeout(
        ASK_TIMEOUT * 2,
        ConnectionManager::new_with_config(client, config.clone()),
    )
    .await
    .map_err(|_| StoreError::Timeout {
        what: "the Redis master",
        after: ASK_TIMEOUT * 2,
    })??;
    let role: Vec<redis::Value> = redis::cmd("ROLE").query_async(&mut manager).await?;
    match role.first() {
        Some(redis::Value::BulkString(role)) if role == b"master" => Ok(manager),
        _ => Err(StoreError::Redis(redis::RedisError::from((
            redis::ErrorKind::ReadOnly,
            "the node the sentinels name is not a master yet",
        )))),
    }
}

/// Asks the sentinels in turn, keeping a connection to each that answered.
struct Asker {
    sentinels: Vec<(NodeAddr, Option<MultiplexedConnection>)>,
    /// How the sentinels are reached ([`NodeAuth::sentinel`]).
    auth: NodeAuth,
    trust: RedisTrust,
}

impl Asker {
    fn new(sentinels: &[NodeAddr], auth: NodeAuth, trust: RedisTrust) -> Self {
        Self {
            sentinels: sentinels.iter().map(|addr| (addr.clone(), None)).collect(),
            auth,
            trust,
        }
    }

    /// The master's address from the first sentinel that knows it.
    async fn master_addr(&mut self, master_name: &str) -> Result<NodeAddr, StoreError> {
        let mut last_error = None;
        for (addr, connection) in &mut self.sentinels {
            let client = || self.trust.client(self.auth.connection_info(addr));
            match ask(client, connection, master_name).await {
                Ok(Some(master)) => return Ok(master),
                Ok(None) => {
                    last_error = Some(format!(
                        "sentinel {addr} does not know master {master_name:?}"
                    ));
                }
                Err(error) => {
                    *connection = None;
                    last_error = Some(format!("sentinel {addr}: {error}"));
                }
            }
        }
        Err(StoreError::Redis(redis::RedisError::from((
            redis::ErrorKind::IoError,
            "no sentinel named the master",
            last_error.unwrap_or_default(),
        ))))
    }
}

async fn ask(
    client: impl FnOnce() -> Result<redis::Client, StoreError>,
    connection: &mut Option<MultiplexedConnection>,
    master_name: &str,
) -> Result<Option<NodeAddr>, StoreError> {
    if connection.is_none() {
        let client = client()?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(ASK_TIMEOUT)
            .set_response_timeout(ASK_TIMEOUT);
        *connection = Some(
            client
                .get_multiplexed_async_connection_with_config(&config)
                .await?,
        );
    }
    let Some(connection) = connection.as_mut() else {
        return Ok(None);
    };
    let answer: Option<(String, u16)> = redis::cmd("SENTINEL")
        .arg("get-master-addr-by-name")
        .arg(master_name)
        .query_async(connection)
        .await?;
    Ok(answer.map(|(host, port)| NodeAddr { host, port }))
}
