//! The finisher: collects completions from job tasks and writes them with `finish.lua`, many
//! per call when several are ready together. Redis outages are retried (bounded) so every job
//! ends in a defined state; only then is its slot free again.
//!
//! A slot that finishes while the pool is claiming takes its next job in the same call (one
//! script call per batch instead of a finish and a claim per job): it stays busy throughout and
//! only slots that found nothing are handed back to the dispatcher.

use std::sync::Arc;
use std::time::Duration;

use redis::{RedisResult, Value};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, WeakUnboundedSender};
use tracing::{error, warn};

use super::claim::{self, Claimed};
use super::encode;
use super::pool::Shared;
use super::run::{self, Completion, Ended};
use super::table::{AbortKind, Counts};
use crate::reply::text;
use crate::scripts::FINISH;
use crate::{keys, time};

/// Most completions written by one script call.
const BATCH: usize = 128;
/// Batches written at once: the worker prepares (and runs the jobs of) one while Redis executes
/// another, instead of each side idling through the other's turn.
const IN_FLIGHT: usize = 2;
/// How long a finish write is retried while Redis is unreachable.
const RETRY_FOR: Duration = Duration::from_secs(300);

/// `finish.lua`'s per-entry result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishOutcome {
    Finished,
    Failed,
    Stopped,
    Requeued,
    Scheduled,
    /// The started-registry entry was gone: someone else (reaper, cancel, delete) owns the job.
    LeaseLost,
    /// Redis stayed unreachable; the reaper will recover the job.
    Unwritten,
}

impl FinishOutcome {
    fn parse(s: &str) -> FinishOutcome {
        match s {
            "finished" => FinishOutcome::Finished,
            "failed" => FinishOutcome::Failed,
            "stopped" => FinishOutcome::Stopped,
            "requeued" => FinishOutcome::Requeued,
            "scheduled" => FinishOutcome::Scheduled,
            "lease_lost" => FinishOutcome::LeaseLost,
            _ => FinishOutcome::Unwritten,
        }
    }
}

pub(crate) const KILLED: &str =
    "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); ";
pub(crate) const STOPPED: &str = "Job stopped by user, work-horse terminated.";
pub(crate) const SHUTDOWN: &str = "taskmill: worker shut down before the job finished";
const LEASE_LOST: &str = "taskmill: lease lost (the job was reaped or removed while it ran)";

pub(crate) async fn finisher(
    shared: Arc<Shared>,
    mut rx: UnboundedReceiver<Completion>,
    tx: WeakUnboundedSender<Completion>,
) {
    let mut writing = tokio::task::JoinSet::new();
    loop {
        while writing.len() >= IN_FLIGHT {
            writing.join_next().await;
        }
        let Some(first) = rx.recv().await else { break };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        // A slot goes straight on to its next job in the same call unless the pool stops
        // claiming or the slot retires. The strong sender held through the call keeps the
        // channel open for the jobs it starts; once the pool stops, none is taken.
        let sender = if shared.stop.is_cancelled() {
            None
        } else {
            tx.upgrade()
        };
        writing.spawn(finish_batch(shared.clone(), batch, sender));
    }
    while writing.join_next().await.is_some() {}
}

/// Writes one batch (claiming next jobs when `sender` is given), spawns the jobs claimed and
/// frees the other slots.
async fn finish_batch(
    shared: Arc<Shared>,
    batch: Vec<Completion>,
    sender: Option<UnboundedSender<Completion>>,
) {
    let slots: Vec<usize> = batch.iter().map(|c| c.slot).collect();
    let (go, counts): (Vec<bool>, Vec<Counts>) = shared
        .finishing(&slots, sender.is_some())
        .into_iter()
        .unzip();
    let next: Vec<Option<String>> = go
        .into_iter()
        .map(|go| go.then(claim::new_exec_id))
        .collect();
    let (outcomes, claimed, at) = write_with_retry(&shared, &batch, &next, &counts).await;
    if let Some(l) = &shared.limiter {
        let xs: Vec<&str> = batch.iter().map(|c| c.exec_id.as_str()).collect();
        l.release(&shared, &xs).await;
    }
    {
        let mut st = shared.state();
        for (c, o) in batch.iter().zip(&outcomes) {
            match o {
                FinishOutcome::Finished => st.report.succeeded += 1,
                FinishOutcome::Failed | FinishOutcome::Stopped => st.report.failed += 1,
                FinishOutcome::Requeued | FinishOutcome::Scheduled => st.report.retried += 1,
                FinishOutcome::LeaseLost | FinishOutcome::Unwritten => st.report.lost += 1,
            }
            // Mirror what the script wrote into the worker hash.
            if let Some(s) = st.table.get_mut(c.slot) {
                match o {
                    FinishOutcome::LeaseLost | FinishOutcome::Unwritten => {}
                    FinishOutcome::Finished => s.counts.succeeded += 1,
                    _ => s.counts.failed += 1,
                }
                if !matches!(o, FinishOutcome::LeaseLost | FinishOutcome::Unwritten) {
                    s.counts.working += c.working;
                }
            }
        }
    }
    let mut kept = vec![false; batch.len()];
    if let Some(tx) = &sender {
        for job in claimed {
            let Some(c) = batch.get(job.slot) else {
                continue;
            };
            kept[job.slot] = true;
            run::spawn(&shared, tx, (c.slot, c.worker.clone()), job, at);
        }
    }
    let mut dead = Vec::new();
    let mut freed = false;
    for (c, kept) in batch.iter().zip(kept) {
        if kept {
            continue;
        }
        freed = true;
        if let Some(name) = shared.release(c.slot) {
            dead.push(name);
        }
    }
    if !dead.is_empty() {
        let remaining = shared.slot_count();
        shared.bury(&dead, remaining).await;
    }
    if freed {
        shared.freed.notify_one();
    }
}

/// Writes the batch; slots with `next[i]` claim their next job in the same call. Redis errors
/// are retried for up to [`RETRY_FOR`]: a failed call with claims is first checked (read-only)
/// for jobs it started anyway, which are adopted; the retry then only finishes.
async fn write_with_retry(
    shared: &Shared,
    batch: &[Completion],
    next: &[Option<String>],
    counts: &[Counts],
) -> (Vec<FinishOutcome>, Vec<Claimed>, f64) {
    let deadline = tokio::time::Instant::now() + RETRY_FOR;
    let mut delay = Duration::from_millis(100);
    let mut retrying = false;
    let mut next = next;
    let mut adopted = Vec::new();
    loop {
        let now = time::now();
        match write(shared, batch, next, counts, retrying, now).await {
            Ok((outcomes, claimed)) => {
                return (outcomes, if retrying { adopted } else { claimed }, now)
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                warn!(error = %e, jobs = batch.len(), "finish write failed; retrying");
                if !retrying && next.iter().any(Option::is_some) {
                    adopted = recover_claims(shared, batch, next).await;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                retrying = true;
                next = &[];
            }
            Err(e) => {
                error!(error = %e, jobs = batch.len(), "finish write gave up; the reaper will recover these jobs");
                return (
                    vec![FinishOutcome::Unwritten; batch.len()],
                    adopted,
                    time::now(),
                );
            }
        }
    }
}

/// Jobs a failed finish call claimed anyway (its reply was lost), found read-only like a
/// dispatcher claim's ([`claim::recover`]); `slot` becomes the batch entry index. Retried while
/// Redis is unreachable, for at most the lease: after that the reaper owns such jobs.
async fn recover_claims(
    shared: &Shared,
    batch: &[Completion],
    next: &[Option<String>],
) -> Vec<Claimed> {
    let (mut entries, mut slots, mut xs) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (c, x)) in batch.iter().zip(next).enumerate() {
        if let Some(x) = x {
            entries.push(i);
            slots.push((c.slot, c.worker.clone()));
            xs.push(x.clone());
        }
    }
    let give_up = tokio::time::Instant::now() + Duration::from_secs(shared.lease_secs as u64);
    let mut delay = Duration::from_millis(100);
    loop {
        match claim::recover(shared, &slots, &xs).await {
            Ok(found) => {
                if !found.is_empty() {
                    warn!(
                        jobs = found.len(),
                        "adopting jobs from a finish call whose reply was lost"
                    );
                }
                return found
                    .into_iter()
                    .filter_map(|mut j| {
                        j.slot = *entries.get(j.slot)?;
                        Some(j)
                    })
                    .collect();
            }
            Err(e) if tokio::time::Instant::now() < give_up => {
                warn!(error = %e, "claim recovery after a failed finish failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                warn!(error = %e, "claim recovery gave up; the reaper will handle any job it started");
                return Vec::new();
            }
        }
    }
}

/// A function name as the history keeps it: `?` for undecodable data, at most 200 bytes (job
/// data is hostile; the name becomes part of a key).
fn stats_name(func: &str) -> &str {
    if func.is_empty() {
        return "?";
    }
    let mut end = func.len().min(200);
    while !func.is_char_boundary(end) {
        end -= 1;
    }
    &func[..end]
}

async fn write(
    shared: &Shared,
    batch: &[Completion],
    next: &[Option<String>],
    counts: &[Counts],
    retrying: bool,
    now: f64,
) -> RedisResult<(Vec<FinishOutcome>, Vec<Claimed>)> {
    let queues = &shared.cfg.queues;
    let mut inv = FINISH.prepare_invoke();
    inv.key(keys::SUSPENDED)
        .arg(now.to_string())
        .arg(batch.len())
        .arg(if retrying { "1" } else { "0" })
        .arg(time::format_rq(now))
        .arg(shared.lease_secs)
        .arg(queues.len());
    for q in queues {
        inv.arg(q);
    }
    inv.arg(crate::stats::recording_cap());
    for (i, c) in batch.iter().enumerate() {
        let (kind, payload) = match &c.end {
            Ended::Ok(v) => ("ok", encode::return_value(v).unwrap_or_default()),
            Ended::Fail(tb) => ("fail", encode::exc_string(tb)),
            Ended::Aborted(AbortKind::Kill) => ("killed", encode::exc_string(KILLED)),
            Ended::Aborted(AbortKind::Stop) => ("stop", encode::exc_string(STOPPED)),
            Ended::Aborted(AbortKind::Shutdown) => ("fail", encode::exc_string(SHUTDOWN)),
            Ended::Aborted(AbortKind::LeaseLost) => ("fail", encode::exc_string(LEASE_LOST)),
        };
        let n = counts.get(i).copied().unwrap_or_default();
        inv.arg(kind)
            .arg(&c.worker)
            .arg(&c.job_id)
            .arg(&c.exec_id)
            .arg(&c.queue)
            .arg(c.started.to_string())
            .arg(c.ended.to_string())
            .arg(time::format_rq(c.ended))
            .arg(format!("{:.6}", n.working + c.working))
            .arg(payload)
            .arg(next.get(i).and_then(Option::as_deref).unwrap_or(""))
            .arg(&c.hints.result_ttl)
            .arg(if c.hints.has_dependencies { "1" } else { "" })
            .arg(if kind == "ok" {
                n.succeeded + 1
            } else {
                n.failed + 1
            })
            .arg(stats_name(&c.func))
            .arg(format!("{:.0}", c.working * 1e6))
            .arg(crate::model::duration_bucket(c.working))
            .arg(&c.hints.group_id);
    }
    let mut conn = shared.conn.clone();
    let reply: Value = inv.invoke_async(&mut conn).await?;
    let (outcomes, claimed) = match reply {
        Value::Array(mut parts) if parts.len() == 2 => {
            let claimed = parts.pop().unwrap_or(Value::Nil);
            (parts.pop().unwrap_or(Value::Nil), claimed)
        }
        _ => (Value::Nil, Value::Nil),
    };
    let outcomes = match outcomes {
        Value::Array(items) => items
            .iter()
            .map(|v| FinishOutcome::parse(&text(v).unwrap_or_default()))
            .collect(),
        _ => vec![FinishOutcome::Unwritten; batch.len()],
    };
    let claimed = match claim::parse(claimed, now) {
        claim::Claim::Jobs { jobs, .. } => jobs,
        claim::Claim::Suspended => Vec::new(),
    };
    Ok((outcomes, claimed))
}
