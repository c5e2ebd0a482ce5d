//! What the console does with a Celery task event once it is recorded (`tasks::record` applied
//! it: each event is counted once however many consoles share the broker):
//! - a `task-succeeded` / `task-failed` is counted in the history (`crate::stats`, the same Lua
//!   writer as RQ's jobs) under the queue `celery:<queue>` and the task name, with the event's
//!   runtime (a failure's runtime is the time since its `task-started`);
//! - a `task-failed` is fingerprinted by `crate::groups::fingerprint` (the same code as RQ's
//!   failures: exception type, normalised message, innermost user frame) and indexed into
//!   Celery's failure groups (`lua/celery_groups.lua`); a task leaving FAILURE (a retry that
//!   succeeded, a revoke) leaves its group.
//!
//! And [`sample`]: the gauges of Celery queues (ready, reserved, oldest age) for the sampler.

use serde_json::Value;

use super::{tasks, Celery};
use crate::groups::fingerprint;
use crate::keys::celery as k;
use crate::scripts::{CELERY_GROUPS, CELERY_STATS_SAMPLE};
use crate::stats::JobRecord;
use crate::{Result, Store};

/// The history's queue name of a Celery queue (the `celery:` prefix keeps RQ's and Celery's
/// queues apart when they share a Redis).
pub fn scope(queue: &str) -> String {
    format!("celery:{queue}")
}

/// Queue name used when neither the events nor the worker's consumed queues tell it.
pub const UNKNOWN_QUEUE: &str = "(unknown)";
/// Failures kept in the group index (oldest dropped past it), as the task records are capped.
pub const MAX_INDEXED: u64 = tasks::CAP;
/// Longest task name and example kept per failure / group.
const MAX_NAME: usize = 200;
const MAX_EXAMPLE: usize = 300;

/// Group index entry of one failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub fingerprint: String,
    pub exc_type: String,
    pub example: String,
}

/// Fingerprint of a failed task from its traceback (or, without one, its exception repr).
pub fn failure(traceback: Option<&str>, exception: Option<&str>) -> Failure {
    let text = traceback
        .filter(|t| !t.trim().is_empty())
        .or(exception)
        .unwrap_or("");
    match fingerprint::parse(text).filter(|_| !text.contains('\0')) {
        Some(f) => Failure {
            fingerprint: f.fingerprint(),
            exc_type: f.exc_type.clone(),
            example: f.example().chars().take(MAX_EXAMPLE).collect(),
        },
        None => Failure {
            fingerprint: fingerprint::UNDECODABLE.into(),
            exc_type: String::new(),
            example: "undecodable: no traceback".into(),
        },
    }
}

/// After `tasks::record` applied `ev` (`typ` its type): history counts and the group index.
/// Never fails the event loop (errors are the caller's debug log).
pub async fn after_record(c: &Celery, ev: &Value, typ: &str) -> Result<()> {
    if !matches!(typ, "task-succeeded" | "task-failed" | "task-revoked") {
        return Ok(());
    }
    let Some(id) = ev.get("uuid").and_then(Value::as_str) else {
        return Ok(());
    };
    let mut conn = c.broker.conn();
    let rec: Vec<Option<String>> = redis::cmd("HMGET")
        .arg(k::task(id))
        .arg(&["name", "queue", "routing_key", "worker", "at:started"][..])
        .query_async(&mut conn)
        .await?;
    let name: String = rec[0].clone().unwrap_or_default();
    let name: String = name.chars().take(MAX_NAME).collect();
    let queue = rec[1]
        .clone()
        .or_else(|| rec[2].clone())
        .filter(|q| !q.is_empty())
        .or_else(|| rec[3].as_deref().and_then(|w| only_queue(c, w)))
        .unwrap_or_else(|| UNKNOWN_QUEUE.into());
    let at = ev
        .get("timestamp")
        .and_then(Value::as_f64)
        .unwrap_or_else(crate::time::now);
    if typ != "task-revoked" {
        let runtime = match ev.get("runtime").and_then(Value::as_f64) {
            Some(r) => r,
            None => rec[4]
                .as_deref()
                .and_then(|s| s.parse::<f64>().ok())
                .map_or(0.0, |started| (at - started).max(0.0)),
        };
        let job = JobRecord {
            queue: scope(&queue),
            function: if name.is_empty() {
                "(unknown task)".into()
            } else {
                name.clone()
            },
            ok: typ == "task-succeeded",
            duration_s: runtime,
        };
        crate::stats::record(history_store(c), crate::time::now() as i64, &[job]).await?;
    }
    let f = if typ == "task-failed" {
        let tb = ev.get("traceback").and_then(Value::as_str);
        let exc = ev.get("exception").and_then(Value::as_str);
        Some((failure(tb, exc), name, queue, at))
    } else {
        None
    };
    sync_group(c, id, f).await
}

/// Puts task `id` in its failure group when its record says FAILURE and `failure` (its
/// fingerprint, task name, queue, failure time) is given; takes it out when its record is no
/// longer FAILURE. Also drops index entries past the records' TTL or the cap (bounded per call).
pub async fn sync_group(
    c: &Celery,
    id: &str,
    failure: Option<(Failure, String, String, f64)>,
) -> Result<()> {
    let (f, name, queue, at) = failure.unwrap_or_else(|| {
        let none = Failure {
            fingerprint: String::new(),
            exc_type: String::new(),
            example: String::new(),
        };
        (none, String::new(), String::new(), 0.0)
    });
    let _: i64 = CELERY_GROUPS
        .key(k::FG_GROUPS)
        .key(k::FG_TASKS)
        .key(k::FG_ALL)
        .key(k::task(id))
        .arg(id)
        .arg(&f.fingerprint)
        .arg(&name)
        .arg(&queue)
        .arg(at)
        .arg(&f.exc_type)
        .arg(&f.example)
        .arg(crate::time::now() - tasks::TTL as f64)
        .arg(MAX_INDEXED)
        .arg(k::fg_group(""))
        .arg(k::fg_meta(""))
        .invoke_async(&mut c.broker.conn())
        .await?;
    Ok(())
}

/// Where Celery's history is written and read: the console's own Redis when it set one
/// (`Celery::history`), else the broker.
pub fn history_store(c: &Celery) -> &Store {
    c.history.get().unwrap_or(&c.broker)
}

/// The one queue a worker consumes, when it consumes exactly one (task events carry no queue).
fn only_queue(c: &Celery, worker: &str) -> Option<String> {
    let ws = c.workers();
    let w = ws.iter().find(|w| w.hostname == worker)?;
    match w.queues.as_slice() {
        [q] => Some(q.clone()),
        _ => None,
    }
}

/// The sampler's Celery part: ready (depth), reserved (as `started`) and oldest age of every
/// Celery queue into the history's gauges of `celery:<queue>`. O(queues) Redis work (the same
/// bounded reads as the queues page). Called by the console that won the interval's lock.
pub async fn sample(c: &Celery, now: i64) -> Result<u64> {
    let qs = super::queues::list(c).await?;
    let mut inv = CELERY_STATS_SAMPLE.prepare_invoke();
    inv.arg(now);
    for q in &qs.queues {
        let latency = q
            .oldest_age_s
            .map_or("-".to_string(), |l| format!("{:.3}", l.max(0.0)));
        inv.arg(scope(&q.name))
            .arg(format!("{} {} {latency} 0 0", q.ready, q.reserved));
    }
    Ok(inv.invoke_async(&mut history_store(c).conn()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_like_rq() {
        let tb = "Traceback (most recent call last):\n  File \"/app/tasks.py\", line 9, in boom\n    raise ValueError(f\"bad {n}\")\nValueError: bad 42\n";
        let a = failure(Some(tb), None);
        let other = tb.replace("42", "7");
        let b = failure(Some(other.as_str()), None);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.exc_type, "ValueError");
        assert_eq!(
            a.fingerprint,
            fingerprint::parse(tb).unwrap().fingerprint(),
            "the same code as RQ's failures"
        );
        assert_eq!(failure(None, None).fingerprint, fingerprint::UNDECODABLE);
        assert_eq!(
            failure(Some(""), Some("KeyError('x')")).exc_type,
            fingerprint::parse("KeyError('x')").unwrap().exc_type
        );
    }
}
