//! The reaper: every `reap_interval`, for each queue, `reap.lua` under a short lock
//! (`taskmill:reaper-lock:<q>`) so only one live process does the work per interval.
//!
//! It recovers executions whose lease ran out (their worker died: retry or fail as RQ's
//! AbandonedJobError) and ids stuck in the intermediate list (back to the queue head).

use std::sync::Arc;

use redis::{RedisResult, Value};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::encode;
use super::pool::Shared;
use crate::reply::{int, text};
use crate::scripts::REAP;
use crate::{keys, time};

/// Expired entries handled per queue per call.
const LIMIT: usize = 500;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reaped {
    pub failed: u64,
    pub retried: u64,
    pub dropped: u64,
    pub intermediate_requeued: u64,
}

pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(shared.cfg.reap_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        for q in &shared.cfg.queues {
            match reap_queue(&shared, q).await {
                Ok(Some(r)) if r != Reaped::default() => {
                    info!(queue = ?q, ?r, "reaped abandoned work")
                }
                Ok(_) => {}
                Err(e) => warn!(queue = ?q, error = %e, "reaper pass failed"),
            }
        }
    }
}

/// RQ's abandoned-job text, with Python's `str(datetime)` of a UTC-aware time.
pub(crate) fn abandoned_message(now: f64) -> String {
    let t = time::format_rq(now);
    let py = t.trim_end_matches('Z').replacen('T', " ", 1);
    format!("Moved to FailedJobRegistry, due to AbandonedJobError, at {py}+00:00")
}

/// One pass over one queue; `None` when another process holds the lock.
pub(crate) async fn reap_queue(shared: &Shared, queue: &str) -> RedisResult<Option<Reaped>> {
    let now = time::now();
    let lock_ms = (shared.cfg.reap_interval.as_millis() as u64 * 4 / 5).max(100);
    let mut inv = REAP.prepare_invoke();
    inv.key(keys::reaper_lock(queue))
        .key(keys::started(queue))
        .key(keys::intermediate(queue))
        .key(keys::queue(queue))
        .arg(now.to_string())
        .arg(time::format_rq(now))
        .arg(&shared.ident.pool_id)
        .arg(lock_ms)
        .arg(queue)
        .arg(encode::exc_string(&abandoned_message(now)))
        .arg(shared.lease_secs)
        .arg(LIMIT);
    // Our own running executions are alive even if an outage let their leases go stale.
    for (_, q, id, x) in shared.beat().jobs {
        if q == queue {
            inv.arg(keys::started_member(&id, &x));
        }
    }
    let mut conn = shared.conn.clone();
    let reply: Value = inv.invoke_async(&mut conn).await?;
    let Value::Array(v) = reply else {
        return Ok(None);
    };
    if v.first().and_then(text).as_deref() != Some("ok") || v.len() < 5 {
        return Ok(None);
    }
    let n = |i: usize| int(&v[i]).unwrap_or(0) as u64;
    Ok(Some(Reaped {
        failed: n(1),
        retried: n(2),
        dropped: n(3),
        intermediate_requeued: n(4),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn abandoned_text_matches_python_datetime_str() {
        assert_eq!(
            super::abandoned_message(1795259732.740648),
            "Moved to FailedJobRegistry, due to AbandonedJobError, at 2026-11-21 11:15:32.740648+00:00"
        );
    }
}
