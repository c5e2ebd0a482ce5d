//! `Store`: the engine's handle on one Redis database.
//!
//! Non-blocking traffic shares one `ConnectionManager` (it reconnects with backoff by itself).
//! Blocking commands (BLMOVE/BLMPOP) and pub/sub each get a dedicated connection from
//! [`Store::dedicated`] so a long block never delays a heartbeat or a page read. The shared
//! manager's response timeout is longer than any block timeout we issue.
//!
//! Where it connects is a [`Target`]: TCP, TLS (`rediss://`, [`tls`]), a Unix socket, or a
//! master found through Sentinel ([`sentinel`]: a loopback forwarder that follows failovers,
//! so every connection kind above keeps working unchanged). A Redis Cluster is refused at
//! start ([`Store::check_server`]): RQ's scripts touch several keys of one queue at once.

mod sentinel;
pub mod target;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::AsyncConnectionConfig;

use crate::error::{Error, Result};
pub use target::{Endpoint, Target, TlsFiles};
pub use tls::explain;

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
    /// Kept alive as long as any clone of the store (Sentinel targets only).
    _forwarder: Option<Arc<sentinel::Forwarder>>,
}

impl Store {
    /// Connects (fails fast if Redis is unreachable at start; later outages are retried).
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_target(&Target::parse(url)?).await
    }

    /// Like [`Store::connect`] but never touches the network: the first command connects, and
    /// every later command retries if Redis was down. The console uses this so it can start (and
    /// say "Redis unreachable") while Redis is down; the worker keeps the fail-fast `connect`.
    pub fn connect_lazy(url: &str) -> Result<Store> {
        Store::open(&Target::parse(url)?)
    }

    /// Connects to `target` and checks the server ([`Store::check_server`]); errors the user
    /// must fix (TLS trust, credentials, unknown Sentinel master, a Cluster) are
    /// `Error::Invalid` with a sentence naming the problem.
    pub async fn connect_target(target: &Target) -> Result<Store> {
        if let Endpoint::Sentinel(spec) = &target.endpoint {
            sentinel::resolve(spec).await?;
        }
        let store = Store::open(target)?;
        store.check_server().await?;
        Ok(store)
    }

    /// The lazy form of [`Store::connect_target`]: reads the TLS files but opens no connection.
    pub fn open(target: &Target) -> Result<Store> {
        let (info, forwarder) = match &target.endpoint {
            Endpoint::Direct(info) => (info.clone(), None),
            Endpoint::Sentinel(spec) => {
                let fwd = sentinel::start(spec.clone())?;
                (
                    sentinel::local_info(fwd.addr, &spec.redis)?,
                    Some(Arc::new(fwd)),
                )
            }
        };
        let client = tls::client(info, &target.tls)?;
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_config())?;
        Ok(Store {
            client,
            conn,
            url: target.shown().to_string(),
            _forwarder: forwarder,
        })
    }

    /// One round trip on a fresh connection: refuses a Redis Cluster node, and turns TLS or
    /// credential failures into `Error::Invalid` naming them. Unreachable stays `Unavailable`.
    pub async fn check_server(&self) -> Result<()> {
        let probe = async {
            let mut c = self.dedicated().await?;
            let info: String = redis::cmd("INFO")
                .arg("cluster")
                .query_async(&mut c)
                .await?;
            Ok::<_, Error>(info)
        };
        let info = probe.await.map_err(|e| explain(e, &self.url))?;
        if info.lines().any(|l| l.trim() == "cluster_enabled:1") {
            return Err(Error::Invalid(format!(
                "{} is a Redis Cluster node (cluster_enabled:1): Taskmill keeps RQ's key layout, \
                 whose scripts touch several keys of one queue at once, which a Cluster spreads \
                 over hash slots. Use a standalone Redis (with Sentinel for failover), or \
                 several separate instances to scale out",
                self.url
            )));
        }
        Ok(())
    }

    /// The shared multiplexed connection (cheap to clone).
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The URL, password hidden.
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
