//! The Taskmill worker: one process runs a pool of N slots; each slot is an RQ worker of its own
//! (`rq:worker:<hostname>.<pid>.<random>.<slot>`) so `rq info` shows it with its current job.
//!
//! A slot only fetches when it is free (no prefetch). Heartbeats refresh the started-registry
//! score, so a job whose process died is reaped by any live worker within the lease TTL.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{Result, Store};

pub mod handlers;

pub use handlers::Handlers;

#[derive(Clone, Debug)]
pub struct PoolConfig {
    pub queues: Vec<String>,
    pub concurrency: usize,
    /// Exit when the queues are empty.
    pub burst: bool,
    /// Run the scheduler (due scheduled jobs → queues) under RQ's lock protocol.
    pub with_scheduler: bool,
    /// How often running jobs refresh their started-registry score and the worker hash.
    pub heartbeat_interval: Duration,
    /// Started-registry score = now + lease; a job not refreshed for this long is reaped.
    pub lease: Duration,
    /// How often this process looks for abandoned jobs and stuck intermediate entries.
    pub reap_interval: Duration,
    /// Graceful drain limit on shutdown before running jobs are abandoned to the reaper.
    pub drain_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            queues: vec!["default".into()],
            concurrency: 4,
            burst: false,
            with_scheduler: true,
            heartbeat_interval: Duration::from_secs(5),
            lease: Duration::from_secs(20),
            reap_interval: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Two-stage shutdown: `graceful` stops fetching and drains; `immediate` stops running jobs.
#[derive(Clone, Default)]
pub struct Shutdown {
    pub graceful: CancellationToken,
    pub immediate: CancellationToken,
}

/// What a pool did, returned when it stops.
#[derive(Clone, Debug, Default)]
pub struct PoolReport {
    pub succeeded: u64,
    pub failed: u64,
}

/// Runs a pool until shutdown (or, in burst mode, until the queues are empty).
pub async fn run(
    _store: Store,
    _config: PoolConfig,
    _handlers: Handlers,
    _shutdown: Shutdown,
) -> Result<PoolReport> {
    todo!("H3")
}
