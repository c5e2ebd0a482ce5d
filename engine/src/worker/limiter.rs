//! The pool's side of concurrency and rate limits (`crate::throttle` explains the design): admit
//! a claimed job (take its permits or park it), release permits after the finish write, refresh
//! the leases of running jobs with the heartbeat, and the periodic tick that hands permits of
//! dead workers and reopened rate windows to parked jobs (plus the chord tick, see `ticks`).
//!
//! A pool started without limits has no `Limiter` at all: none of this runs for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::Value;
use tracing::warn;

use super::claim::Claimed;
use super::encode;
use super::pool::Shared;
use super::table::lock;
use crate::reply::text;
use crate::scripts::THROTTLE_ACQUIRE;
use crate::throttle::Limits;
use crate::{keys, time};

/// Permits one running execution holds.
struct Held {
    member: String,
    limits: Vec<usize>,
}

pub(crate) struct Limiter {
    pub limits: Limits,
    /// Execution id → the permits it holds (for the heartbeat and the release).
    held: Mutex<HashMap<String, Held>>,
}

/// What admission decided for a claimed job.
pub(crate) enum Admit {
    Run,
    /// Parked in a limit's waiting list, or already owned by someone else: do not run it, free
    /// the slot.
    Skip,
}

impl Limiter {
    pub fn new(limits: Limits) -> Option<Limiter> {
        (!limits.is_empty()).then(|| Limiter {
            limits,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// Takes the job's permits, or parks it. Jobs under no limit return at once (the function
    /// name is decoded only when some function has a limit). Redis errors are retried for up
    /// to the lease; after that the job is left to the reaper (its claim stands), not run.
    pub async fn admit(&self, shared: &Shared, job: &Claimed, queue: &str, worker: &str) -> Admit {
        let func = if self.limits.has_functions() {
            encode::decode_call(&job.data)
                .map(|c| c.func)
                .unwrap_or_default()
        } else {
            String::new()
        };
        let which = self.limits.for_job(&func, queue);
        if which.is_empty() {
            return Admit::Run;
        }
        let give_up = tokio::time::Instant::now() + Duration::from_secs(shared.lease_secs as u64);
        let mut delay = Duration::from_millis(50);
        loop {
            match self.acquire(shared, job, queue, worker, &which).await {
                Ok(true) => {
                    lock(&self.held).insert(
                        job.exec_id.clone(),
                        Held {
                            member: keys::started_member(&job.id, &job.exec_id),
                            limits: which,
                        },
                    );
                    return Admit::Run;
                }
                Ok(false) => return Admit::Skip,
                Err(e) if tokio::time::Instant::now() < give_up => {
                    warn!(error = %e, job = %job.id, "limit acquire failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                Err(e) => {
                    warn!(error = %e, job = %job.id, "limit acquire gave up; the reaper will requeue the job");
                    return Admit::Skip;
                }
            }
        }
    }

    async fn acquire(
        &self,
        shared: &Shared,
        job: &Claimed,
        queue: &str,
        worker: &str,
        which: &[usize],
    ) -> redis::RedisResult<bool> {
        let mut inv = THROTTLE_ACQUIRE.prepare_invoke();
        inv.arg(time::now().to_string())
            .arg(&job.id)
            .arg(&job.exec_id)
            .arg(shared.lease_secs)
            .arg(queue)
            .arg(worker)
            .arg(which.len());
        for &i in which {
            for a in self.limits.all()[i].args() {
                inv.arg(a);
            }
        }
        let mut conn = shared.conn.clone();
        let reply: Value = inv.invoke_async(&mut conn).await?;
        let Value::Array(items) = reply else {
            return Ok(false);
        };
        Ok(items.first().and_then(text).as_deref() == Some("ok"))
    }

    /// Releases the permits of these (finished) executions and wakes parked jobs for them. One
    /// call for the batch, and none when no execution of it held a permit.
    pub async fn release(&self, shared: &Shared, exec_ids: &[&str]) {
        let releases: Vec<(usize, String)> = {
            let mut held = lock(&self.held);
            exec_ids
                .iter()
                .filter_map(|x| held.remove(*x))
                .flat_map(|h| {
                    let m = h.member;
                    h.limits.into_iter().map(move |i| (i, m.clone()))
                })
                .collect()
        };
        if releases.is_empty() {
            return;
        }
        let mut conn = shared.conn.clone();
        for attempt in 0..5 {
            match self.limits.tick(&mut conn, &releases).await {
                Ok(_) => return,
                Err(e) => {
                    warn!(error = %e, attempt, "limit release failed; retrying (else the leases expire)");
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
            }
        }
    }

    /// Pushes the lease of every permit a running execution holds to `now + lease` (with the
    /// heartbeat; `XX` so a permit already released or expired is not re-created).
    pub async fn refresh(&self, shared: &Shared) -> redis::RedisResult<()> {
        let leases: Vec<(String, String)> = {
            let held = lock(&self.held);
            held.values()
                .flat_map(|h| {
                    h.limits
                        .iter()
                        .map(|&i| (self.limits.all()[i].id(), h.member.clone()))
                })
                .collect()
        };
        let score = time::now() + shared.lease_secs as f64;
        let mut p = redis::pipe();
        for (id, member) in &leases {
            if self
                .limits
                .all()
                .iter()
                .any(|l| l.id() == *id && l.concurrency.is_some())
            {
                p.cmd("ZADD")
                    .arg(keys::limit_holders(id))
                    .arg("XX")
                    .arg(score)
                    .arg(member)
                    .ignore();
                p.expire(keys::limit_holders(id), shared.lease_secs + 60)
                    .ignore();
            }
        }
        if leases.is_empty() {
            return Ok(());
        }
        let mut conn = shared.conn.clone();
        p.query_async::<()>(&mut conn).await
    }
}

/// Frees the slot of a job that was parked (or found owned by someone else) instead of run.
pub(crate) async fn free_slot(shared: &Arc<Shared>, index: usize) {
    if let Some(name) = shared.release(index) {
        let remaining = shared.slot_count();
        shared.bury(&[name], remaining).await;
    }
    shared.freed.notify_one();
}

/// Burst mode: whether jobs parked under this pool's limits remain (then waits a moment for the
/// tick to release them, so the burst run does not end with parked jobs). Always `false`
/// without limits.
pub(crate) async fn parked_remain(shared: &Shared) -> bool {
    let Some(l) = &shared.limiter else {
        return false;
    };
    let mut p = redis::pipe();
    for x in l.limits.all() {
        p.llen(keys::limit_waiting(&x.id()));
    }
    let mut conn = shared.conn.clone();
    let n: Vec<u64> = p.query_async(&mut conn).await.unwrap_or_default();
    if n.iter().sum::<u64>() == 0 {
        return false;
    }
    tokio::select! {
        _ = shared.stop.cancelled() => {}
        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
    }
    true
}

/// How long the limit tick sleeps at most; sooner when a rate window reopens for waiting jobs.
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// One limit tick: publishes the limits, returns expired permits and reopened windows to
/// parked jobs. Returns how long to sleep before the next.
pub(crate) async fn tick_once(shared: &Shared, limiter: &Limiter) -> Duration {
    let mut conn = shared.conn.clone();
    if let Err(e) = limiter.limits.publish(&mut conn).await {
        warn!(error = %e, "publishing limits failed");
    }
    match limiter.limits.tick(&mut conn, &[]).await {
        Ok((_, Some(reopen))) => {
            let wait = (reopen - time::now()).clamp(0.02, TICK.as_secs_f64());
            Duration::from_secs_f64(wait)
        }
        Ok(_) => TICK,
        Err(e) => {
            warn!(error = %e, "limit tick failed");
            TICK
        }
    }
}
