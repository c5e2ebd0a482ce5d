//! Sentinel failover without touching a single call site: a loopback forwarder.
//!
//! The engine holds `ConnectionManager`s and dedicated connections for the life of a process
//! (the worker's heartbeat, BLMOVE lanes, pub/sub), and `redis::Client` has one fixed address.
//! So a Sentinel-backed [`Store`](super::Store) points its client at `127.0.0.1:<port>`, where
//! this module forwards each connection to the master the Sentinels name. A resolver asks the
//! Sentinels every second (at once after an upstream connect failure); when the answer
//! changes (failover, or a demoted master answering READONLY) every forwarded connection is cut,
//! and the connection manager and the lanes reconnect — through the forwarder, to the new
//! master. The bytes pass unchanged (AUTH, SELECT, RESP), so credentials stay end to end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::target::SentinelSpec;
use crate::error::{Error, Result};

const POLL: Duration = Duration::from_secs(1);
const ASK_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Master {
    host: String,
    port: u16,
}

struct Shared {
    spec: SentinelSpec,
    master: watch::Sender<Option<Master>>,
    wake: Notify,
}

/// The running forwarder; dropping the last clone of the store stops it.
pub(crate) struct Forwarder {
    pub addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Asks the Sentinels once; the error names every Sentinel that failed and why.
pub(crate) async fn resolve(spec: &SentinelSpec) -> Result<()> {
    ask(spec, &mut None)
        .await
        .map(|_| ())
        .map_err(Error::Invalid)
}

/// Starts the forwarder (needs a tokio runtime). Connections made before the first answer
/// wait for it for up to the connect timeout.
pub(crate) fn start(spec: SentinelSpec) -> Result<Forwarder> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    tokio::runtime::Handle::try_current()
        .map_err(|_| Error::Invalid("Sentinel support needs a tokio runtime".into()))?;
    let listener = TcpListener::from_std(std_listener)?;
    let (tx, _) = watch::channel(None);
    let shared = Arc::new(Shared {
        spec,
        master: tx,
        wake: Notify::new(),
    });
    let resolver = tokio::spawn(resolver(shared.clone()));
    let acceptor = tokio::spawn(accept(listener, shared));
    Ok(Forwarder {
        addr,
        tasks: vec![resolver, acceptor],
    })
}

/// The connection info the store's client uses: the forwarder, with the data nodes' db,
/// username and password.
pub(crate) fn local_info(addr: SocketAddr, redis: &RedisConnectionInfo) -> Result<ConnectionInfo> {
    Ok(ConnectionAddr::Tcp(addr.ip().to_string(), addr.port())
        .into_connection_info()?
        .set_redis_settings(redis.clone()))
}

async fn resolver(shared: Arc<Shared>) {
    let mut cached: Option<(usize, MultiplexedConnection)> = None;
    let mut failing = false;
    loop {
        match ask(&shared.spec, &mut cached).await {
            Ok(m) => {
                failing = false;
                shared.master.send_if_modified(|cur| {
                    if cur.as_ref() == Some(&m) {
                        return false;
                    }
                    tracing::info!(master = %shared.spec.master, host = %m.host, port = m.port,
                        "Sentinel: master address");
                    *cur = Some(m.clone());
                    true
                });
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "Sentinel: no answer; retrying every second");
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shared.wake.notified() => {}
        }
    }
}

/// `SENTINEL get-master-addr-by-name`, on the cached Sentinel connection first, then on each
/// Sentinel in the order given.
async fn ask(
    spec: &SentinelSpec,
    cached: &mut Option<(usize, MultiplexedConnection)>,
) -> std::result::Result<Master, String> {
    let mut errors = Vec::new();
    let start = cached.as_ref().map(|(i, _)| *i).unwrap_or(0);
    for k in 0..spec.sentinels.len() {
        let i = (start + k) % spec.sentinels.len();
        let (host, port) = &spec.sentinels[i];
        let mut conn = match cached.take() {
            Some((ci, c)) if ci == i => c,
            _ => match connect_sentinel(host, *port).await {
                Ok(c) => c,
                Err(e) => {
                    errors.push(format!("{host}:{port}: {e}"));
                    continue;
                }
            },
        };
        let reply: redis::RedisResult<Option<(String, String)>> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(&spec.master)
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(Some((h, p))) => {
                *cached = Some((i, conn));
                if let Ok(port) = p.parse() {
                    return Ok(Master { host: h, port });
                }
                errors.push(format!("{host}:{port}: bad port {p:?}"));
            }
            Ok(None) => {
                *cached = Some((i, conn));
                errors.push(format!(
                    "{host}:{port} knows no master named {:?}",
                    spec.master
                ));
            }
            Err(e) => errors.push(format!("{host}:{port}: {e}")),
        }
    }
    Err(format!(
        "no Sentinel named the master: {}",
        errors.join("; ")
    ))
}

async fn connect_sentinel(host: &str, port: u16) -> redis::RedisResult<MultiplexedConnection> {
    let client = redis::Client::open(ConnectionAddr::Tcp(host.to_string(), port))?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(ASK_TIMEOUT))
        .set_response_timeout(Some(ASK_TIMEOUT));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((sock, peer)) if peer.ip().is_loopback() => {
                tokio::spawn(forward(sock, shared.clone()));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "Sentinel forwarder: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One client connection: to the current master until either side closes or the master moves.
async fn forward(mut client: TcpStream, shared: Arc<Shared>) {
    let mut rx = shared.master.subscribe();
    let wait = rx.wait_for(|m| m.is_some());
    let master = match tokio::time::timeout(super::CONNECT_TIMEOUT, wait).await {
        Ok(Ok(m)) => m.clone().unwrap_or_else(|| unreachable!("waited for Some")),
        _ => return,
    };
    let connect = TcpStream::connect((master.host.as_str(), master.port));
    let mut upstream = match tokio::time::timeout(super::CONNECT_TIMEOUT, connect).await {
        Ok(Ok(s)) => s,
        _ => {
            // The master the Sentinels named is gone: ask again now rather than in a second.
            shared.wake.notify_one();
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
        _ = rx.changed() => {
            tracing::info!("Sentinel: master moved; closing a connection to the old one");
        }
    }
    // Upstream gone (a killed master) or moved: re-resolve now rather than in a second.
    shared.wake.notify_one();
}
