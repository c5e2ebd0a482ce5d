//! `Store`: the engine's handle on one Redis database.
//!
//! Non-blocking traffic shares one `ConnectionManager` (it reconnects with backoff by itself).
//! Blocking commands (BLMOVE/BLMPOP) and pub/sub each get a dedicated connection from
//! [`Store::dedicated`] so a long block never delays a heartbeat or a page read. The shared
//! manager's response timeout is longer than any block timeout we issue.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::AsyncConnectionConfig;

use crate::error::Result;

/// Longest BLMOVE/BLMPOP timeout the worker issues, in seconds.
pub const MAX_BLOCK_SECS: f64 = 5.0;
/// Response timeout on every connection: larger than `MAX_BLOCK_SECS`.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Store {
    client: redis::Client,
    conn: ConnectionManager,
    url: String,
}

impl Store {
    /// Connects (fails fast if Redis is unreachable at start; later outages are retried).
    pub async fn connect(url: &str) -> Result<Store> {
        let client = redis::Client::open(url)?;
        let conn = client
            .get_connection_manager_with_config(manager_config())
            .await?;
        Ok(Store {
            client,
            conn,
            url: url.to_string(),
        })
    }

    /// Like [`Store::connect`] but never touches the network: the first command connects, and
    /// every later command retries if Redis was down. The console uses this so it can start (and
    /// say "Redis unreachable") while Redis is down; the worker keeps the fail-fast `connect`.
    pub fn connect_lazy(url: &str) -> Result<Store> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_config())?;
        Ok(Store {
            client,
            conn,
            url: url.to_string(),
        })
    }

    /// The shared multiplexed connection (cheap to clone).
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A fresh connection of its own, for blocking commands.
    pub async fn dedicated(&self) -> Result<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT));
        Ok(self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?)
    }
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(2))
        .set_number_of_retries(3)
}
