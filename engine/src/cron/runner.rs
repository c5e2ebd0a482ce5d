//! The cron loop, run by `taskmill cron` and `taskmill worker --cron`: wakes at the next tick
//! (at most every `poll`), enqueues due jobs through the per-tick lock, and keeps its scheduler
//! record in RQ's keys fresh. The clock is injected so tests can move time by hand.
//!
//! First tick of a job: an interval job runs at start if it never ran (RQ's rule), then on the
//! multiples of its interval; a cron job waits for its next occurrence. A job that ran before
//! (its last tick is in Redis) and missed ticks while no scheduler ran gets one catch-up at
//! start, then continues from now: missed ticks are never replayed in bulk.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::schedule::Schedule;
use super::state::{self, SchedulerRecord, TickOutcome};
use super::CronJobDef;
use crate::{Result, Store};

/// Where the loop reads the time (unix seconds).
pub trait Clock: Send + Sync {
    fn now(&self) -> f64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        crate::time::now()
    }
}

/// A clock tests set by hand.
pub struct ManualClock(Mutex<f64>);

impl ManualClock {
    pub fn new(t: f64) -> ManualClock {
        ManualClock(Mutex::new(t))
    }
    pub fn set(&self, t: f64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }
    pub fn advance(&self, secs: f64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += secs;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> f64 {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Shown as `config_file` in the scheduler hash.
    pub config_file: String,
    /// Longest sleep between looks at the clock (no Redis traffic unless a tick is due).
    pub poll: Duration,
    /// Scheduler record refresh (RQ: at most 60 s; the hash expires after 120 s).
    pub heartbeat: Duration,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            config_file: String::new(),
            poll: Duration::from_secs(1),
            heartbeat: Duration::from_secs(30),
        }
    }
}

struct Job {
    def: CronJobDef,
    next: Option<i64>,
    latest: Option<f64>,
}

/// The first tick to wait for, given the last tick any process enqueued.
pub fn first_tick(schedule: &Schedule, last: Option<i64>, now: f64) -> Option<i64> {
    let now = now.floor() as i64;
    match (schedule, last) {
        (Schedule::Interval { secs }, None) => Some(now.div_euclid(*secs as i64) * *secs as i64),
        (Schedule::Interval { secs }, Some(l)) => Some(l + *secs as i64),
        (Schedule::Cron { .. }, Some(l)) => schedule.next_after(l),
        (Schedule::Cron { .. }, None) => schedule.next_after(now),
    }
}

/// Runs until `cancel`; returns how many jobs this process enqueued.
pub async fn run(
    store: Store,
    defs: Vec<CronJobDef>,
    clock: Arc<dyn Clock>,
    cfg: RunnerConfig,
    cancel: CancellationToken,
) -> Result<u64> {
    let rec = SchedulerRecord::new(&cfg.config_file, clock.now());
    let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    let last = loop {
        match state::last_ticks(&store, &names).await {
            Ok(l) => break l,
            Err(e) => {
                warn!(error = %e, "cron: cannot read the last ticks; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(0),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    };
    let now = clock.now();
    let mut jobs: Vec<Job> = defs
        .iter()
        .zip(last)
        .map(|(d, l)| Job {
            next: first_tick(&d.schedule, l, now),
            def: d.clone(),
            latest: None,
        })
        .collect();
    if let Err(e) = state::register(&store, &rec, &dicts(&jobs), now).await {
        warn!(error = %e, "cron: could not register the scheduler; the heartbeat will retry");
    }
    info!(scheduler = %rec.name, jobs = jobs.len(), "cron scheduler started");
    let mut enqueued = 0u64;
    let mut last_beat = now;
    while !cancel.is_cancelled() {
        let now = clock.now();
        let secs = now.floor() as i64;
        let mut changed = false;
        for j in jobs.iter_mut() {
            let Some(next) = j.next.filter(|n| *n <= secs) else {
                continue;
            };
            let tick = match j.def.schedule {
                Schedule::Interval { secs: i } => secs.div_euclid(i as i64) * i as i64,
                Schedule::Cron { .. } => next,
            };
            match state::enqueue(&store, &j.def, Some(tick), now).await {
                Ok(TickOutcome::Enqueued(id)) => {
                    info!(cron_job = ?j.def.name, job = %id, tick, "cron: enqueued");
                    enqueued += 1;
                    j.latest = Some(now);
                }
                Ok(TickOutcome::Taken) => {}
                Err(e) => {
                    // Not advanced: the same tick is tried again on the next look.
                    warn!(cron_job = ?j.def.name, error = %e, "cron: enqueue failed; retrying");
                    continue;
                }
            }
            j.next = j.def.schedule.next_after(tick.max(secs));
            changed = true;
        }
        if changed || now - last_beat >= cfg.heartbeat.as_secs_f64() {
            match state::heartbeat(&store, &rec, &dicts(&jobs), now).await {
                Ok(()) => last_beat = now,
                Err(e) => warn!(error = %e, "cron: heartbeat failed"),
            }
        }
        let until_next = jobs
            .iter()
            .filter_map(|j| j.next)
            .min()
            .map_or(f64::MAX, |n| n as f64 - now);
        let nap = until_next.clamp(0.01, cfg.poll.as_secs_f64());
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_secs_f64(nap)) => {}
        }
    }
    if let Err(e) = state::unregister(&store, &rec.name).await {
        warn!(error = %e, "cron: could not unregister the scheduler (it expires in 120 s)");
    }
    info!(scheduler = %rec.name, enqueued, "cron scheduler stopped");
    Ok(enqueued)
}

fn dicts(jobs: &[Job]) -> Vec<serde_json::Value> {
    jobs.iter()
        .map(|j| state::job_dict(&j.def, j.latest, j.next.map(|n| n as f64)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cron::schedule::CronExpr;

    #[test]
    fn first_ticks_and_the_one_catch_up() {
        let every5 = Schedule::Interval { secs: 300 };
        // Never ran: due at once (RQ runs interval jobs at start).
        assert_eq!(first_tick(&every5, None, 1000.5), Some(900));
        // Ran at 600, down until 10_000: one catch-up now (600 + 300 ≤ now), not 30.
        assert_eq!(first_tick(&every5, Some(600), 10_000.0), Some(900));
        let nightly = Schedule::Cron {
            expr: CronExpr::parse("0 0 * * *").unwrap(),
            tz: chrono_tz::Tz::UTC,
        };
        let day = 86_400;
        assert_eq!(
            first_tick(&nightly, None, (3 * day + 5) as f64),
            Some(4 * day)
        );
        assert_eq!(
            first_tick(&nightly, Some(day), (10 * day + 5) as f64),
            Some(2 * day)
        );
    }
}
