//! The worker runtime against a real Redis: job outcomes in RQ's exact state (results stream,
//! registries, TTLs, worker hashes), retries, timeouts, dependents, pub/sub commands, scaling,
//! burst/shutdown, the reaper, the scheduler and exec handlers.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use base64::Engine as _;
use engine::command::Command;
use engine::enqueue::NewJob;
use engine::worker::{self, Handlers, PoolConfig, PoolReport, Shutdown};
use engine::{keys, Store};
use redis::AsyncCommands;
use serde_json::Value;
use tokio::task::JoinHandle;

mod commands;
mod fetch;
mod outcomes;
mod parity;
mod recovery;

/// Short intervals so lease expiry and reaping happen within a test.
pub(super) fn cfg(queues: &[&str], slots: usize, burst: bool) -> PoolConfig {
    PoolConfig {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency: slots,
        burst,
        with_scheduler: false,
        heartbeat_interval: Duration::from_millis(300),
        lease: Duration::from_secs(2),
        reap_interval: Duration::from_millis(300),
        drain_timeout: Duration::from_secs(5),
    }
}

pub(super) fn start(
    store: &Store,
    config: PoolConfig,
    handlers: Handlers,
) -> (JoinHandle<PoolReport>, Shutdown) {
    let shutdown = Shutdown::default();
    let s = shutdown.clone();
    let store = store.clone();
    let h = tokio::spawn(async move {
        worker::run(store, config, handlers, s)
            .await
            .expect("pool runs")
    });
    (h, shutdown)
}

pub(super) async fn burst(store: &Store, config: PoolConfig, handlers: Handlers) -> PoolReport {
    let (h, _s) = start(store, config, handlers);
    tokio::time::timeout(Duration::from_secs(30), h)
        .await
        .expect("burst run ends")
        .unwrap()
}

pub(super) async fn eventually<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(super) async fn field(store: &Store, id: &str, f: &str) -> Option<String> {
    store.conn().hget(keys::job(id), f).await.unwrap()
}

pub(super) async fn status(store: &Store, id: &str) -> Option<String> {
    field(store, id, "status").await
}

pub(super) fn job(queue: &str, func: &str, args: Vec<Value>) -> NewJob {
    NewJob::new(queue, func).args(args)
}

/// Raw result entries, oldest first, as field maps.
pub(super) async fn raw_results(store: &Store, id: &str) -> Vec<HashMap<String, String>> {
    let reply: redis::streams::StreamRangeReply =
        store.conn().xrange_all(keys::results(id)).await.unwrap();
    reply
        .ids
        .into_iter()
        .map(|e| {
            e.map
                .into_iter()
                .map(|(k, v)| (k, redis::from_redis_value::<String>(v).unwrap()))
                .collect()
        })
        .collect()
}

pub(super) fn unb64(s: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

pub(super) async fn zscore(store: &Store, key: &str, member: &str) -> Option<f64> {
    store.conn().zscore(key, member).await.unwrap()
}

pub(super) async fn running_worker(store: &Store, id: &str) -> String {
    eventually("job started", 10, || async {
        status(store, id).await.as_deref() == Some("started")
    })
    .await;
    field(store, id, "worker_name").await.unwrap()
}

pub(super) async fn publish(store: &Store, worker: &str, cmd: Command) -> u64 {
    store
        .conn()
        .publish(keys::pubsub(worker), cmd.to_payload())
        .await
        .unwrap()
}
