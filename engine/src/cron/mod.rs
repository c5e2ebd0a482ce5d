//! Cron: periodic jobs from a TOML file, enqueued exactly once per tick however many processes
//! run the same file, with their state in RQ 2.12's cron keys so `rq cron` tools and Taskmill's
//! console see each other's schedulers.
//!
//! - `types`    — what the console shows (no Redis; the wasm build uses it).
//! - `schedule` — cron expressions, time zones, next tick (pure, unit-tested).
//! - `config`   — the TOML file, refused with line and reason.
//! - `state`    — RQ's cron keys: scheduler hash and registry, reads for the console.
//! - `runner`   — the loop: injected clock, per-tick lock + enqueue in one script.
//!
//! Exactly once: a tick is identified by its time; `lua/cron_enqueue.lua` enqueues only if the
//! job's last enqueued tick (`taskmill:cron:last:<name>`) is older, and records the new one in
//! the same script. Catch-up: after downtime only the first missed tick runs (once, at start),
//! then the schedule continues from now; missed ticks are never replayed in bulk.

pub mod types;

#[cfg(feature = "runtime")]
pub mod config;
#[cfg(feature = "runtime")]
pub mod runner;
#[cfg(feature = "runtime")]
pub mod schedule;
#[cfg(feature = "runtime")]
pub mod state;

pub use types::{CronJobInfo, CronOverview, CronSchedulerInfo};

/// One cron job as loaded from a file.
#[cfg(feature = "runtime")]
#[derive(Clone, Debug, PartialEq)]
pub struct CronJobDef {
    pub name: String,
    pub func: String,
    pub queue: String,
    pub schedule: schedule::Schedule,
    /// The expression as written (cron schedules).
    pub cron: Option<String>,
    pub timezone: Option<String>,
    pub args: Vec<serde_json::Value>,
    pub kwargs: serde_json::Map<String, serde_json::Value>,
    pub timeout: Option<i64>,
    pub result_ttl: Option<i64>,
    pub failure_ttl: Option<i64>,
    pub ttl: Option<i64>,
}

#[cfg(feature = "runtime")]
impl CronJobDef {
    /// The job one tick creates (JSON serializer, RQ's cron default `result_ttl` 500).
    pub fn new_job(&self) -> crate::enqueue::NewJob {
        let mut job = crate::enqueue::NewJob::new(&self.queue, &self.func)
            .args(self.args.clone())
            .kwargs(self.kwargs.clone());
        job.timeout = self.timeout;
        job.result_ttl = Some(self.result_ttl.unwrap_or(DEFAULT_RESULT_TTL));
        job.failure_ttl = self.failure_ttl;
        job.ttl = self.ttl;
        job
    }

    pub fn interval(&self) -> Option<u64> {
        match self.schedule {
            schedule::Schedule::Interval { secs } => Some(secs),
            schedule::Schedule::Cron { .. } => None,
        }
    }
}

/// RQ's `DEFAULT_RESULT_TTL`, which `CronJob` passes to every job it enqueues.
pub const DEFAULT_RESULT_TTL: i64 = 500;
/// RQ's `DEFAULT_CRON_SCHEDULER_TTL`: scheduler hash expiry, and readers' staleness cut-off.
pub const SCHEDULER_TTL: u64 = 120;
/// RQ's `DEFAULT_CRON_JOB_HISTORY_LIMIT` / `_TTL`.
pub const HISTORY_LIMIT: u64 = 1000;
pub const HISTORY_TTL: u64 = 365 * 24 * 3600;
