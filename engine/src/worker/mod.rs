//! The Taskmill worker: one process runs a pool of N slots; each slot is an RQ worker of its own
//! (`rq:worker:<hostname>.<pid>.<random>.<slot>`) so `rq info` shows it with its current job.
//!
//! A slot only fetches when it is free (no prefetch). Heartbeats refresh the started-registry
//! score, so a job whose process died is reaped by any live worker within the lease TTL.
//!
//! # Tasks of a running pool
//! - `dispatch` — claims jobs for free slots (`claim.lua`); when the queues are empty it blocks
//!   with one BLMOVE per queue into RQ's intermediate lists (`wait`: why, and what it costs), so
//!   a SIGKILL at any point loses no job; `run` executes each job in its own task.
//! - `finish`   — writes completions in batches (`finish.lua`); each freed slot claims its next
//!   job in that same call while the pool is claiming, else it is freed for the dispatcher.
//! - `heartbeat`, `reaper`, `commands` (pub/sub), and the `crate::scheduler` when enabled.
//! - `limiter` — with `--limits` only: admits claimed jobs under concurrency / rate limits
//!   (or parks them), releases permits after the finish write (`crate::throttle`).
//! - `ticks`   — once a second: the limit tick (with limits) and the chord tick (`crate::chord`).
//!
//! # `run` behaviour
//! - **Burst** (`burst: true`): one scheduler pass (if `with_scheduler`), then jobs are claimed
//!   until a claim finds every queue empty *and* no slot is busy (jobs requeued by a retry are
//!   picked up before that); a suspended Redis (`rq:suspended`) also ends a burst run. Then
//!   the slots die cleanly and `run` returns the report.
//! - **Graceful shutdown** (`Shutdown.graceful`, or the RQ `shutdown` command on any slot):
//!   claiming stops at once (a blocking wait is unblocked with `CLIENT UNBLOCK`; an id popped at
//!   that instant goes back to the queue head), running jobs get up to `drain_timeout` to finish.
//! - **Immediate shutdown** (`Shutdown.immediate`), or the drain timeout running out: running
//!   jobs are aborted (exec children killed) and recorded as failures with the traceback
//!   `taskmill: worker shut down before the job finished` — retried like any failure when the
//!   job has `retries_left` — so nothing waits for the reaper. Then slots die and `run` returns.
//! - Redis outages never panic: claims, heartbeats and reaps retry with backoff; finish writes
//!   are retried for up to 5 minutes. Only an unreachable Redis at start is an error. A claim
//!   whose reply was lost is checked (read-only) and the jobs it started are adopted, so none is
//!   stranded until the reaper or started twice.
//!
//! # Commands and leases
//! - `scale {slots}` (clamped to 1..=256): new slots are born with fresh, never reused indexes;
//!   surplus idle slots die at once, busy ones when their job ends; the pool record follows.
//! - A heartbeat that finds a running job's started-registry member gone (the reaper took it
//!   after a long outage, or an operator canceled/deleted it) aborts the local execution and
//!   writes nothing for it (`FinishOutcome::LeaseLost`), so no ghost duplicate keeps running.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::error::Error;
use crate::limits::validate_queue_name;
use crate::{Result, Store};

mod builtins;
mod claim;
mod commands;
mod dispatch;
mod encode;
pub mod exec;
mod finish;
pub mod handlers;
mod heartbeat;
mod limiter;
mod pool;
mod reaper;
mod run;
mod slot;
mod table;
mod ticks;
mod wait;

pub use finish::FinishOutcome;
pub use handlers::{Handlers, JobError};
pub use reaper::Reaped;
pub(crate) use slot::hostname;

use pool::{Shared, State};
use table::{AbortKind, SlotTable};

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
    /// Graceful drain limit on shutdown; jobs still running then are aborted and recorded as
    /// failed (`taskmill: worker shut down before the job finished`, retried if they can be).
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
    /// Failures that went back to the queue or the scheduled registry (retries left).
    pub retried: u64,
    /// Executions whose result was not written: lease lost, or Redis unreachable for too long.
    pub lost: u64,
    /// The pool id (`<hostname>.<pid>.<8 hex>`); slot i is the RQ worker `<pool id>.<i>`.
    pub pool_id: String,
}

/// Checks a config; `run` calls it first.
pub fn validate(config: &PoolConfig) -> Result<()> {
    if config.queues.is_empty() {
        return Err(Error::Invalid("at least one queue is required".into()));
    }
    for q in &config.queues {
        validate_queue_name(q)?;
    }
    crate::limits::validate_slots(config.concurrency as u64).map_err(|_| {
        Error::Invalid(format!(
            "concurrency must be 1..={}",
            crate::limits::MAX_SLOTS
        ))
    })?;
    if config.heartbeat_interval.is_zero() || config.reap_interval.is_zero() {
        return Err(Error::Invalid(
            "heartbeat and reap intervals must be positive".into(),
        ));
    }
    if config.lease <= config.heartbeat_interval {
        return Err(Error::Invalid(
            "the lease must be longer than the heartbeat interval".into(),
        ));
    }
    Ok(())
}

/// Runs a pool until shutdown (or, in burst mode, until the queues are empty).
pub async fn run(
    store: Store,
    config: PoolConfig,
    handlers: Handlers,
    shutdown: Shutdown,
) -> Result<PoolReport> {
    run_limited(
        store,
        config,
        handlers,
        shutdown,
        crate::throttle::Limits::default(),
    )
    .await
}

/// [`run`] under concurrency and rate limits (`crate::throttle`; empty = none).
pub async fn run_limited(
    store: Store,
    config: PoolConfig,
    handlers: Handlers,
    shutdown: Shutdown,
    limits: crate::throttle::Limits,
) -> Result<PoolReport> {
    validate(&config)?;
    let lease_secs = config.lease.as_secs_f64().ceil().max(1.0) as i64;
    let mut ident = slot::Identity::new(config.queues.clone());
    let mut conn = store.conn();
    ident.ip_address = slot::own_address(&mut conn).await;
    let table = SlotTable::new(config.concurrency, |i| ident.slot_name(i));
    let shared = Arc::new(Shared {
        conn: store.conn(),
        store: store.clone(),
        ident,
        lease_secs,
        worker_ttl: lease_secs + 60,
        handlers,
        state: Mutex::new(State {
            table,
            report: PoolReport::default(),
        }),
        freed: tokio::sync::Notify::new(),
        stop: shutdown.graceful.child_token(),
        immediate: shutdown.immediate.clone(),
        sink: tokio::sync::Mutex::new(None),
        scale_lock: tokio::sync::Mutex::new(()),
        limiter: limiter::Limiter::new(limits),
        cfg: config,
    });
    let births: Vec<(String, Option<slot::BirthJob>)> =
        shared.slot_names().into_iter().map(|n| (n, None)).collect();
    slot::birth(
        &mut conn,
        &shared.ident,
        &births,
        shared.cfg.concurrency,
        shared.worker_ttl,
    )
    .await?;
    info!(pool = %shared.ident.pool_id, slots = shared.cfg.concurrency, queues = ?shared.cfg.queues, "worker pool started");

    // Immediate implies graceful.
    {
        let (imm, stop) = (shared.immediate.clone(), shared.stop.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = imm.cancelled() => stop.cancel(),
                _ = stop.cancelled() => {}
            }
        });
    }

    let bg = CancellationToken::new();
    let ready = CancellationToken::new();
    let mut tasks = vec![
        tokio::spawn(commands::listen(shared.clone(), bg.clone(), ready.clone())),
        tokio::spawn(heartbeat::run(shared.clone(), bg.clone())),
        tokio::spawn(reaper::run(shared.clone(), bg.clone())),
        tokio::spawn(ticks::run(shared.clone(), bg.clone())),
    ];
    if shared.cfg.with_scheduler {
        let mut sched = crate::scheduler::Scheduler::new(
            store.clone(),
            shared.cfg.queues.clone(),
            shared.ident.hostname.clone(),
        );
        if shared.cfg.burst {
            if let Err(e) = sched.pass().await {
                warn!(error = %e, "scheduler pass failed");
            }
            let _ = sched.release().await;
        } else {
            tasks.push(tokio::spawn(sched.run(bg.clone())));
        }
    }
    // Commands sent right after start should not be lost: wait (briefly) for the subscription.
    let _ = tokio::time::timeout(Duration::from_secs(2), ready.cancelled()).await;

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let finisher = tokio::spawn(finish::finisher(shared.clone(), rx, tx.downgrade()));
    let exit = dispatch::dispatch(shared.clone(), tx).await;
    // The finisher claims next jobs too: it stops with the dispatcher (burst end included).
    shared.stop.cancel();
    info!(pool = %shared.ident.pool_id, ?exit, "worker pool stops claiming");

    drain(&shared).await;
    // The dispatcher's sender is gone and every job task has sent its completion: the finisher
    // ends once they are written.
    let _ = finisher.await;
    bg.cancel();
    for t in tasks {
        let _ = t.await;
    }
    let names = shared.slot_names();
    if let Err(e) = slot::death(&mut conn, &shared.ident, &names, 0, true, shared.worker_ttl).await
    {
        warn!(error = %e, "death write failed; the worker hashes will expire");
    }
    let mut report = shared.state().report.clone();
    report.pool_id = shared.ident.pool_id.clone();
    info!(pool = %report.pool_id, ?report, "worker pool stopped");
    Ok(report)
}

/// Waits for running jobs up to the drain timeout (or an immediate shutdown), then aborts the
/// rest and waits for their completions to be written.
async fn drain(shared: &Arc<Shared>) {
    let deadline = tokio::time::Instant::now() + shared.cfg.drain_timeout;
    let busy = shared.busy_names();
    if !busy.is_empty() {
        // RQ marks a warm shutdown requested while busy; dashboards show it.
        let mut conn = shared.conn.clone();
        if let Err(e) = slot::shutdown_requested(&mut conn, &busy).await {
            warn!(error = %e, "could not mark shutdown_requested_date");
        }
    }
    let mut aborted = false;
    while shared.busy_count() > 0 {
        if aborted {
            // A finish call in flight when the abort fired may still have started a next job.
            shared.abort_all(AbortKind::Shutdown);
        }
        tokio::select! {
            _ = shared.freed.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = tokio::time::sleep_until(deadline), if !aborted => {
                shared.abort_all(AbortKind::Shutdown);
                aborted = true;
            }
            _ = shared.immediate.cancelled(), if !aborted => {
                shared.abort_all(AbortKind::Shutdown);
                aborted = true;
            }
        }
    }
}
