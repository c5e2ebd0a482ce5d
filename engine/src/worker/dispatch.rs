//! The dispatcher: the one loop that claims work. It reserves the free slots, claims at most one
//! job per reserved slot in one script call, spawns them, and when nothing was available blocks
//! on one lane per queue (`wait.rs`) until a job arrives (or shutdown unblocks them). Lanes are
//! only armed while a slot is free: a pool with none unblocks them and waits for a finish.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tracing::warn;

use super::claim::{self, Claim};
use super::pool::Shared;
use super::run::{self, Completion};
use super::slot;
use super::wait::{Lanes, Popped};

/// Why the dispatcher returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Stopped,
    /// Burst mode: queues empty and nothing running (or the queues are suspended).
    BurstDone,
}

pub(crate) async fn dispatch(shared: Arc<Shared>, tx: UnboundedSender<Completion>) -> Exit {
    let mut lanes = Lanes::new(shared.cfg.queues.len());
    // Ids the lanes moved into intermediate lists, for the next claim to start or give back.
    let mut pre: Vec<Popped> = Vec::new();
    let mut suspended = false;
    let mut delay = Duration::from_millis(100);
    let burst = shared.cfg.burst;
    loop {
        if shared.stop.is_cancelled() {
            pre.extend(lanes.disarm(&shared).await);
            give_back(&shared, &pre).await;
            return Exit::Stopped;
        }
        let free = shared.reserve_free();
        if free.is_empty() && pre.is_empty() {
            if lanes.armed() {
                // No slot to run what a lane would pop (an idle worker elsewhere could).
                pre = lanes.disarm(&shared).await;
                if !pre.is_empty() {
                    continue;
                }
            }
            tokio::select! {
                _ = shared.stop.cancelled() => {}
                _ = shared.freed.notified() => {}
            }
            continue;
        }
        let exec_ids: Vec<String> = free.iter().map(|_| claim::new_exec_id()).collect();
        let result = claim::claim(&shared, &free, &exec_ids, &pre).await;
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
        // The pre-popped ids are consumed by a successful call either way (claimed or put back).
        pre.clear();
        match result {
            Claim::Suspended => {
                let dead = shared.unreserve(&free);
                shared.bury(&dead, shared.slot_count()).await;
                // Nothing is claimed while suspended: what the lanes pop meanwhile goes back.
                let popped = lanes.disarm(&shared).await;
                give_back(&shared, &popped).await;
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
                // A claim that left a slot free found every queue empty: go straight to the
                // wait (a job pushed since is there for BLMOVE to take at once).
                if claimed > 0 && (burst || claimed == free.len()) {
                    continue;
                }
                if burst {
                    if shared.busy_count() == 0 {
                        // Jobs parked by a limit come back to the queue when permits free up;
                        // a chord completed by this run enqueues its callback now, not at a
                        // later worker's tick (the burst run then takes it if it is ours).
                        if !super::limiter::parked_remain(&shared).await
                            && !super::ticks::fire_chords(&shared).await
                        {
                            return Exit::BurstDone;
                        }
                        continue;
                    }
                    tokio::select! {
                        _ = shared.stop.cancelled() => {}
                        _ = shared.freed.notified() => {}
                    }
                    continue;
                }
                // A lane that only timed out is simply re-armed: anything that puts an id in a
                // queue wakes its lane, so there is nothing for a claim to find (no polling).
                let (popped, err) = loop {
                    let r = lanes.wait(&shared, &shared.stop).await;
                    if !r.0.is_empty() || r.1.is_some() || shared.stop.is_cancelled() {
                        break r;
                    }
                };
                if let Some(e) = err {
                    warn!(error = %e, "blocking wait failed; retrying");
                    if popped.is_empty() {
                        sleep_or_stop(&shared, delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                }
                pre = popped;
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
    pre: &mut Vec<Popped>,
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
        // The script ran, so it also consumed the pre-popped ids (started or put back).
        pre.clear();
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

/// Puts ids popped by the lanes back at the head of their queues (a claim with no slots).
async fn give_back(shared: &Shared, pre: &[Popped]) {
    if pre.is_empty() {
        return;
    }
    for _ in 0..10 {
        match claim::claim(shared, &[], &[], pre).await {
            Ok(_) => return,
            Err(e) => {
                warn!(error = %e, jobs = pre.len(), "could not give popped jobs back; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    // Still in their intermediate lists: a reaper puts them back after the grace period.
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
