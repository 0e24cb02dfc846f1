//! The Redis connection shared by a process.

use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::StoreError;

/// A cheap-to-clone Redis connection that reconnects by itself after Redis
/// restarts, with short timeouts so a dead Redis is noticed in milliseconds.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    manager: ConnectionManager,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("addr", &self.client.get_connection_info().addr)
            .finish()
    }
}

impl Redis {
    /// The multiplexed connection; clone it per task.
    pub fn connection(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// The client, for dedicated connections such as pub/sub.
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// `PING`, bounded by `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        let mut conn = self.manager.clone();
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

/// Connects to Redis, retrying until `connect_timeout` passes.
pub async fn connect_redis(url: &str, connect_timeout: Duration) -> Result<Redis, StoreError> {
    let client = redis::Client::open(url).map_err(|err| StoreError::InvalidUrl {
        what: "redis",
        reason: err.to_string(),
    })?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_millis(500))
        .set_response_timeout(Duration::from_millis(500))
        .set_number_of_retries(1)
        .set_max_delay(1_000);
    let deadline = Instant::now() + connect_timeout;
    loop {
        match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
            Ok(manager) => return Ok(Redis { client, manager }),
            Err(err) if Instant::now() < deadline => {
                tracing::info!(error = %err, "waiting for redis");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}
