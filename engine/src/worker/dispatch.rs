//! The dispatcher: the one loop that claims work. It reserves the free slots, claims at most one
//! job per reserved slot in one script call, spawns them, and when nothing was available blocks
//! on a dedicated connection until a job arrives (or shutdown unblocks it).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tracing::warn;

use super::claim::{self, Blocker, Claim, Popped};
use super::pool::Shared;
use super::run::{self, Completion};
use super::slot;

/// Why the dispatcher returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Stopped,
    /// Burst mode: queues empty and nothing running (or the queues are suspended).
    BurstDone,
}

pub(crate) async fn dispatch(shared: Arc<Shared>, tx: UnboundedSender<Completion>) -> Exit {
    let mut blocker = Blocker::default();
    let mut pre: Option<Popped> = None;
    let mut suspended = false;
    let mut delay = Duration::from_millis(100);
    let burst = shared.cfg.burst;
    loop {
        if shared.stop.is_cancelled() {
            if let Some(p) = pre.take() {
                give_back(&shared, p).await;
            }
            return Exit::Stopped;
        }
        let free = shared.reserve_free();
        if free.is_empty() && pre.is_none() {
            tokio::select! {
                _ = shared.stop.cancelled() => {}
                _ = shared.freed.notified() => {}
            }
            continue;
        }
        let exec_ids: Vec<String> = free.iter().map(|_| claim::new_exec_id()).collect();
        let result = claim::claim(&shared, &free, &exec_ids, pre.as_ref()).await;
        let result = match result {
            Ok(r) => {
                delay = Duration::from_millis(100);
                r
            }
            Err(e) => {
                warn!(error = %e, "claim failed; checking whether it ran before retrying");
                let adopted = recover(&shared, &tx, &free, &exec_ids, &mut pre, &mut delay).await;
                if adopted == 0 {
                    sleep_or_stop(&shared, delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                continue;
            }
        };
        // The pre-popped id is consumed by a successful call either way (claimed or put back).
        pre = None;
        match result {
            Claim::Suspended => {
                let dead = shared.unreserve(&free);
                shared.bury(&dead, shared.slot_count()).await;
                if !suspended {
                    suspended = true;
                    set_state(&shared, "suspended").await;
                }
                if burst {
                    return Exit::BurstDone;
                }
                sleep_or_stop(&shared, Duration::from_secs(1)).await;
            }
            Claim::Jobs { jobs, at } => {
                if suspended {
                    suspended = false;
                    set_state(&shared, "idle").await;
                }
                let claimed = jobs.len();
                let mut used = vec![false; free.len()];
                for job in jobs {
                    let Some(slot) = free.get(job.slot).cloned() else {
                        continue;
                    };
                    used[job.slot] = true;
                    run::spawn(&shared, &tx, slot, job, at);
                }
                let unused: Vec<(usize, String)> = free
                    .iter()
                    .zip(&used)
                    .filter(|(_, u)| !**u)
                    .map(|(s, _)| s.clone())
                    .collect();
                let dead = shared.unreserve(&unused);
                shared.bury(&dead, shared.slot_count()).await;
                if claimed > 0 {
                    continue;
                }
                if burst {
                    if shared.busy_count() == 0 {
                        return Exit::BurstDone;
                    }
                    tokio::select! {
                        _ = shared.stop.cancelled() => {}
                        _ = shared.freed.notified() => {}
                    }
                    continue;
                }
                match blocker.wait(&shared, &shared.stop).await {
                    Ok(p) => pre = p,
                    Err(e) => {
                        warn!(error = %e, "blocking wait failed; retrying");
                        sleep_or_stop(&shared, delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
    }
}

/// After a failed claim call: adopts the jobs it started anyway (so they are neither stranded
/// until the reaper nor started twice), then frees the other reserved slots. Retries the check
/// while Redis is unreachable, for at most the lease: after that the reaper owns those jobs.
async fn recover(
    shared: &Arc<Shared>,
    tx: &UnboundedSender<Completion>,
    free: &[(usize, String)],
    exec_ids: &[String],
    pre: &mut Option<Popped>,
    delay: &mut Duration,
) -> usize {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(shared.lease_secs as u64);
    let found = loop {
        match claim::recover(shared, free, exec_ids).await {
            Ok(found) => break found,
            Err(e) if tokio::time::Instant::now() < give_up && !shared.stop.is_cancelled() => {
                warn!(error = %e, "claim recovery failed; retrying");
                sleep_or_stop(shared, *delay).await;
                *delay = (*delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                warn!(error = %e, "claim recovery gave up; the reaper will handle any job it started");
                break Vec::new();
            }
        }
    };
    let mut used = vec![false; free.len()];
    let adopted = found.len();
    if adopted > 0 {
        // The script ran, so it also consumed the pre-popped id (started or put back).
        *pre = None;
        warn!(
            jobs = adopted,
            "adopting jobs from a claim whose reply was lost"
        );
    }
    let at = crate::time::now();
    for job in found {
        if let Some(slot) = free.get(job.slot).cloned() {
            used[job.slot] = true;
            run::spawn(shared, tx, slot, job, at);
        }
    }
    let unused: Vec<(usize, String)> = free
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(s, _)| s.clone())
        .collect();
    let dead = shared.unreserve(&unused);
    shared.bury(&dead, shared.slot_count()).await;
    adopted
}

/// Puts an id popped during shutdown back at the head of its queue (claim with no slots).
async fn give_back(shared: &Shared, p: Popped) {
    for _ in 0..10 {
        match claim::claim(shared, &[], &[], Some(&p)).await {
            Ok(_) => return,
            Err(e) => {
                warn!(error = %e, job = %p.id, "could not give a popped job back; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

async fn set_state(shared: &Shared, state: &str) {
    let names = shared.idle_names();
    let mut conn = shared.conn.clone();
    if let Err(e) = slot::set_state(&mut conn, &names, state).await {
        warn!(error = %e, state, "worker state update failed");
    }
}

async fn sleep_or_stop(shared: &Shared, d: Duration) {
    tokio::select! {
        _ = shared.stop.cancelled() => {}
        _ = tokio::time::sleep(d) => {}
    }
}
