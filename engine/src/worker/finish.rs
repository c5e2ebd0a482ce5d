//! The finisher: collects completions from job tasks and writes them with `finish.lua`, many
//! per call when several are ready together. Redis outages are retried (bounded) so every job
//! ends in a defined state; only then is its slot free again.

use std::sync::Arc;
use std::time::Duration;

use redis::{RedisResult, Value};
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::{error, warn};

use super::claim::text;
use super::encode;
use super::pool::{AbortKind, Shared};
use super::run::{Completion, Ended};
use super::scripts::{scripts, templates};
use crate::time;

/// Most completions written by one script call.
const BATCH: usize = 128;
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

pub(crate) async fn finisher(shared: Arc<Shared>, mut rx: UnboundedReceiver<Completion>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let outcomes = write_with_retry(&shared, &batch).await;
        let mut dead = Vec::new();
        {
            let mut st = shared.state();
            for o in &outcomes {
                match o {
                    FinishOutcome::Finished => st.report.succeeded += 1,
                    FinishOutcome::Failed | FinishOutcome::Stopped => st.report.failed += 1,
                    FinishOutcome::Requeued | FinishOutcome::Scheduled => st.report.retried += 1,
                    FinishOutcome::LeaseLost | FinishOutcome::Unwritten => st.report.lost += 1,
                }
            }
        }
        for c in &batch {
            if let Some(name) = shared.release(c.slot) {
                dead.push(name);
            }
        }
        if !dead.is_empty() {
            let remaining = shared.slot_count();
            shared.bury(&dead, remaining).await;
        }
        shared.freed.notify_one();
    }
}

async fn write_with_retry(shared: &Shared, batch: &[Completion]) -> Vec<FinishOutcome> {
    let deadline = tokio::time::Instant::now() + RETRY_FOR;
    let mut delay = Duration::from_millis(100);
    let mut retrying = false;
    loop {
        match write(shared, batch, retrying).await {
            Ok(v) => return v,
            Err(e) if tokio::time::Instant::now() < deadline => {
                warn!(error = %e, jobs = batch.len(), "finish write failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                retrying = true;
            }
            Err(e) => {
                error!(error = %e, jobs = batch.len(), "finish write gave up; the reaper will recover these jobs");
                return vec![FinishOutcome::Unwritten; batch.len()];
            }
        }
    }
}

async fn write(
    shared: &Shared,
    batch: &[Completion],
    retrying: bool,
) -> RedisResult<Vec<FinishOutcome>> {
    let now = time::now();
    let mut inv = scripts().finish.prepare_invoke();
    inv.arg(templates())
        .arg(now.to_string())
        .arg(batch.len())
        .arg(if retrying { "1" } else { "0" });
    for c in batch {
        let (kind, payload) = match &c.end {
            Ended::Ok(v) => ("ok", encode::return_value(v).unwrap_or_default()),
            Ended::Fail(tb) => ("fail", encode::exc_string(tb)),
            Ended::Aborted(AbortKind::Kill) => ("killed", encode::exc_string(KILLED)),
            Ended::Aborted(AbortKind::Stop) => ("stop", encode::exc_string(STOPPED)),
            Ended::Aborted(AbortKind::Shutdown) => ("fail", encode::exc_string(SHUTDOWN)),
            Ended::Aborted(AbortKind::LeaseLost) => ("fail", encode::exc_string(LEASE_LOST)),
        };
        inv.arg(kind)
            .arg(&c.worker)
            .arg(&c.job_id)
            .arg(&c.exec_id)
            .arg(&c.queue)
            .arg(c.started.to_string())
            .arg(c.ended.to_string())
            .arg(time::format_rq(c.ended))
            .arg(format!("{:.6}", c.working))
            .arg(payload);
    }
    let mut conn = shared.conn.clone();
    let reply: Value = inv.invoke_async(&mut conn).await?;
    let Value::Array(items) = reply else {
        return Ok(vec![FinishOutcome::Unwritten; batch.len()]);
    };
    Ok(items
        .iter()
        .map(|v| FinishOutcome::parse(&text(v).unwrap_or_default()))
        .collect())
}
