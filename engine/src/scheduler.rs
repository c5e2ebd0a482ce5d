//! The scheduler: moves due jobs from `rq:scheduled:<q>` onto their queues every second, under
//! RQ 2.12's lock protocol so Python RQ schedulers and Taskmill ones take turns per queue:
//! `rq:scheduler-lock:<q>` = scheduler name (EX 61, compare-and-set acquire/refresh,
//! compare-and-delete release) and an `rq:scheduler:<name>` hash (EXPIRE 61).

use std::time::Duration;

use redis::RedisResult;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::scripts::{SCHEDULE_LOCK, SCHEDULE_MOVE, SCHEDULE_UNLOCK};
use crate::{keys, time, Store};

/// Lock and hash TTL, RQ's value.
pub const LOCK_TTL: i64 = 61;
/// Due jobs moved per queue per pass (RQ's ZRANGEBYSCORE limit).
pub const MOVE_LIMIT: usize = 1000;

pub struct Scheduler {
    store: Store,
    queues: Vec<String>,
    name: String,
    hostname: String,
    created_at: String,
    held: Vec<bool>,
}

impl Scheduler {
    pub fn new(store: Store, queues: Vec<String>, hostname: String) -> Scheduler {
        let held = vec![false; queues.len()];
        Scheduler {
            store,
            queues,
            // RQ names schedulers with uuid4().hex.
            name: format!(
                "{:016x}{:016x}",
                rand::random::<u64>(),
                rand::random::<u64>()
            ),
            hostname,
            created_at: time::format_rq(time::now()),
            held,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every second until `cancel`: heartbeat, locks, move due jobs. Releases locks on exit.
    pub async fn run(mut self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            match self.pass().await {
                Ok(n) if n > 0 => info!(moved = n, "scheduler queued due jobs"),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "scheduler pass failed"),
            }
        }
        if let Err(e) = self.release().await {
            warn!(error = %e, "scheduler lock release failed; locks expire in {LOCK_TTL} s");
        }
    }

    /// One pass: acquire/refresh every queue's lock, then move due jobs of the locked queues.
    pub async fn pass(&mut self) -> RedisResult<u64> {
        let mut conn = self.store.conn();
        for (i, q) in self.queues.iter().enumerate() {
            let got: i64 = SCHEDULE_LOCK
                .key(keys::scheduler_lock(q))
                .arg(&self.name)
                .arg(LOCK_TTL)
                .invoke_async(&mut conn)
                .await?;
            self.held[i] = got == 1;
        }
        if !self.held.iter().any(|h| *h) {
            return Ok(0);
        }
        let now = time::now();
        let held: Vec<&String> = self
            .queues
            .iter()
            .zip(&self.held)
            .filter(|(_, h)| **h)
            .map(|(q, _)| q)
            .collect();
        let hkey = keys::scheduler(&self.name);
        redis::pipe()
            .atomic()
            .hset_multiple(
                &hkey,
                &[
                    ("name", self.name.as_str()),
                    ("hostname", self.hostname.as_str()),
                    ("pid", std::process::id().to_string().as_str()),
                    (
                        "queues",
                        held.iter()
                            .map(|q| q.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                            .as_str(),
                    ),
                    ("created_at", self.created_at.as_str()),
                    ("last_heartbeat", time::format_rq(now).as_str()),
                ],
            )
            .ignore()
            .expire(&hkey, LOCK_TTL)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        let mut moved = 0;
        for q in held {
            moved += move_due(&self.store, q, now).await?;
        }
        Ok(moved)
    }

    /// Releases the locks this scheduler holds and deletes its hash.
    pub async fn release(&mut self) -> RedisResult<()> {
        let mut conn = self.store.conn();
        for (i, q) in self.queues.iter().enumerate() {
            if self.held[i] {
                let _: i64 = SCHEDULE_UNLOCK
                    .key(keys::scheduler_lock(q))
                    .arg(&self.name)
                    .invoke_async(&mut conn)
                    .await?;
                self.held[i] = false;
            }
        }
        redis::cmd("DEL")
            .arg(keys::scheduler(&self.name))
            .query_async::<()>(&mut conn)
            .await
    }
}

/// Moves the due jobs of one queue (no lock check: callers hold the queue's lock).
pub async fn move_due(store: &Store, queue: &str, now: f64) -> RedisResult<u64> {
    let mut conn = store.conn();
    let moved: u64 = SCHEDULE_MOVE
        .key(keys::scheduled(queue))
        .key(keys::queue(queue))
        .arg(now.floor() as i64)
        .arg(time::format_rq(now))
        .arg(MOVE_LIMIT)
        .invoke_async(&mut conn)
        .await?;
    Ok(moved)
}
