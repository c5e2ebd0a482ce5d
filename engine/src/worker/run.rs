//! Running one claimed job: decode `data`, find the handler, run it under the job's timeout in
//! its own task (a panicking handler fails only its job), and race it against the slot's abort.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::claim::{Claimed, FinishHints};
use super::encode;
use super::limiter::{free_slot, Admit};
use super::pool::Shared;
use super::table::{Abort, AbortKind, Running};
use crate::time;

/// RQ's default job timeout in seconds.
pub const DEFAULT_TIMEOUT: i64 = 180;

/// How one execution ended, before it is written.
#[derive(Debug)]
pub(crate) enum Ended {
    Ok(Value),
    Fail(String),
    Aborted(AbortKind),
}

pub(crate) struct Completion {
    pub slot: usize,
    pub worker: String,
    pub job_id: String,
    pub exec_id: String,
    pub queue: String,
    /// Execution `created_at` (claim time) and end, unix seconds.
    pub started: f64,
    pub ended: f64,
    pub working: f64,
    /// The job's function (`''` if its data could not be decoded), for the history.
    pub func: String,
    pub end: Ended,
    pub hints: FinishHints,
}

/// Marks the slot busy and spawns the job's task.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    tx: &UnboundedSender<Completion>,
    slot: (usize, String),
    job: Claimed,
    at: f64,
) {
    let abort = Arc::new(Abort::default());
    let queue = shared.cfg.queues[job.queue.min(shared.cfg.queues.len() - 1)].clone();
    let started = Instant::now();
    shared.assign(
        slot.0,
        Running {
            job_id: job.id.clone(),
            exec_id: job.exec_id.clone(),
            queue: queue.clone(),
            started,
            abort: abort.clone(),
        },
    );
    let tx = tx.clone();
    let handlers = shared.handlers.clone();
    let limited = shared.limiter.is_some().then(|| shared.clone());
    tokio::spawn(async move {
        let mut func = String::new();
        if let Some(shared) = limited {
            if let Some(l) = &shared.limiter {
                if let Admit::Skip = l.admit(&shared, &job, &queue, &slot.1).await {
                    free_slot(&shared, slot.0).await;
                    return;
                }
            }
        }
        let end = tokio::select! {
            biased;
            _ = abort.token.cancelled() => Ended::Aborted(abort.kind().unwrap_or(AbortKind::Shutdown)),
            r = execute(&handlers, &job.data, job.timeout, &mut func) => match r {
                Ok(v) => Ended::Ok(v),
                Err(tb) => Ended::Fail(tb),
            },
        };
        let _ = tx.send(Completion {
            slot: slot.0,
            worker: slot.1,
            job_id: job.id,
            exec_id: job.exec_id,
            queue,
            started: at,
            ended: time::now(),
            working: started.elapsed().as_secs_f64(),
            func,
            end,
            hints: job.hints,
        });
    });
}

pub(crate) async fn execute(
    handlers: &super::Handlers,
    data: &[u8],
    timeout: Option<i64>,
    func: &mut String,
) -> Result<Value, String> {
    use futures::FutureExt as _;
    let call = encode::decode_call(data).map_err(|e| encode::deserialization_traceback(&e))?;
    func.clone_from(&call.func);
    let Some(handler) = handlers.get(&call.func) else {
        return Err(format!(
            "taskmill: no handler registered for '{}'",
            call.func
        ));
    };
    let secs = timeout.unwrap_or(DEFAULT_TIMEOUT);
    // A panicking handler (even one panicking as it builds its future) fails only its job. It
    // runs inside the job's task (no task of its own per job): an abort or timeout drops it,
    // which drops an exec handler's child guard and kills its process group.
    let (args, kwargs) = (call.args, call.kwargs);
    let run =
        std::panic::AssertUnwindSafe(async move { handler(args, kwargs).await }).catch_unwind();
    let joined = if secs > 0 {
        match tokio::time::timeout(Duration::from_secs(secs as u64), run).await {
            Ok(j) => j,
            Err(_) => {
                return Err(format!(
                    "Traceback (most recent call last):\n  File \"taskmill\", in perform\n\
                     rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value ({secs} seconds)\n"
                ))
            }
        }
    } else {
        run.await
    };
    match joined {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.traceback),
        Err(_) => Err(format!("taskmill: handler '{}' panicked", call.func)),
    }
}
