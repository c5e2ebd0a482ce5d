//! Scale a pool live: a Taskmill worker process to N slots (Taskmill-only `scale` pub/sub
//! command on a slot's channel), or a supervised Python pool (`taskmill pool`) to N processes
//! (the same command on the pool's own channel: a Python `rq worker` ignores unknown commands).
//! A worker no pool supervises cannot be scaled: that is a conflict, not a silent 200.

use crate::command::Command;
use crate::{pypool, Error, Result, Store};

pub use crate::limits::MAX_SLOTS;

/// `worker` is any slot name of the pool. Returns PUBLISH's receiver count.
pub async fn scale(store: &Store, worker: &str, slots: u64) -> Result<u64> {
    crate::limits::validate_slots(slots)?;
    super::shutdown::publish(store, worker, &Command::Scale { slots }).await
}

/// `target` is a Taskmill slot, a Python pool's child worker, or a Python pool's id.
pub async fn scale_any(store: &Store, target: &str, n: u64) -> Result<u64> {
    crate::limits::validate_slots(n)?;
    let worker = match super::perform::known_worker(store, target).await {
        Ok(w) => w,
        Err(Error::NotFound(msg)) => {
            // Not a worker: maybe the id of a Python pool (the console's pool header).
            if pypool::bounds(store, target).await?.is_some() {
                return pypool::scale(store, target, n).await;
            }
            return Err(Error::NotFound(msg));
        }
        Err(e) => return Err(e),
    };
    let python_child = is_python(&worker);
    match worker.pool {
        Some(p) if p.is_python() => pypool::scale(store, &p.pool_id, n).await,
        // A Python child (RQ writes its `python_version`) whose pool record expired: its
        // supervisor is gone, and the worker itself would ignore the command.
        Some(p) if python_child => Err(Error::Conflict(format!(
            "{target} was started by `taskmill pool` {}, which is no longer running",
            p.pool_id
        ))),
        Some(_) => scale(store, target, n).await,
        None => Err(Error::Conflict(format!(
            "{target} is not a Taskmill pool and no `taskmill pool` supervises it: only \
             `taskmill worker` processes and workers started by `taskmill pool` can be scaled \
             (a plain Python rq worker ignores the command)"
        ))),
    }
}

/// An RQ worker run by Python (Taskmill slots write a marker instead of a Python version).
fn is_python(w: &crate::model::WorkerInfo) -> bool {
    w.python_version
        .as_deref()
        .is_some_and(|v| !v.starts_with("n/a (Taskmill"))
}
