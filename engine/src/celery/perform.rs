//! The Celery operator actions of [`Action`]: validated with `crate::limits`, sent through the
//! pidbox (one PUBLISH each: Celery's control protocol has no multi-key state to keep atomic),
//! answered with each worker's reply or `Error::NoReply` after the deadline, and audited in the
//! console's audit log like every RQ action. Retry re-publishes a failed task's original
//! message (`retry`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{control, Celery};
use crate::actions::{Action, Outcome};
use crate::model::AuditEntry;
use crate::{limits, Error, Result, Store};

/// Signals a revoke may ask the pool to send.
pub const SIGNALS: [&str; 8] = [
    "SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM",
];
/// Longest time limit accepted, in seconds (a week).
pub const MAX_TIME_LIMIT: f64 = 7.0 * 86_400.0;

/// Runs a Celery `action` for `who`; the audit record goes to `audit` (the console's store).
pub async fn perform(c: &Celery, audit: &Store, action: Action, who: &str) -> Result<Outcome> {
    action.validate()?;
    let outcome = run(c, &action).await?;
    let entry = AuditEntry {
        at: crate::time::now(),
        who: who.to_string(),
        action: action.name().to_string(),
        target: action.target(&outcome),
        count: outcome.count(),
    };
    if let Err(e) = crate::audit::record(audit, &entry).await {
        tracing::warn!(action = action.name(), error = %e, "could not write the audit record");
    }
    Ok(outcome)
}

async fn run(c: &Celery, action: &Action) -> Result<Outcome> {
    let (method, args, worker) = match action {
        Action::CeleryRevoke {
            id,
            terminate,
            signal,
        } => {
            let args = json!({"task_id": [id], "terminate": terminate,
                              "signal": signal.as_deref().unwrap_or("SIGTERM")});
            // Every worker keeps its own revoked set: ask all, wait for the live ones.
            let online = c
                .workers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .online(crate::time::now());
            let limit = (!online.is_empty()).then_some(online.len());
            let r = control::call(c, "revoke", args, None, limit, c.timeout).await?;
            return replies(r);
        }
        Action::CeleryRetry { id } => {
            return Ok(Outcome::Enqueued {
                id: super::retry::retry(c, id).await?,
            })
        }
        Action::CeleryRetryGroup {
            fingerprint,
            expected,
        } => return retry_group(c, fingerprint, *expected).await,
        Action::CeleryShutdown { worker } => {
            // Celery's shutdown never replies: report who got the broadcast.
            let dest = [worker.clone()];
            let n = control::cast(c, "shutdown", json!({}), Some(&dest)).await?;
            return Ok(Outcome::Sent { receivers: n });
        }
        Action::CeleryPoolGrow { worker, n } => ("pool_grow", json!({"n": n}), worker),
        Action::CeleryPoolShrink { worker, n } => ("pool_shrink", json!({"n": n}), worker),
        Action::CeleryAutoscale { worker, max, min } => {
            ("autoscale", json!({"max": max, "min": min}), worker)
        }
        Action::CeleryRateLimit { worker, task, rate } => (
            "rate_limit",
            json!({"task_name": task, "rate_limit": rate}),
            worker,
        ),
        Action::CeleryTimeLimit {
            worker,
            task,
            soft,
            hard,
        } => (
            "time_limit",
            json!({"task_name": task, "soft": soft, "hard": hard}),
            worker,
        ),
        Action::CeleryAddConsumer { worker, queue } => {
            ("add_consumer", json!({"queue": queue}), worker)
        }
        Action::CeleryCancelConsumer { worker, queue } => {
            ("cancel_consumer", json!({"queue": queue}), worker)
        }
        Action::CeleryPoolRestart { worker } => ("pool_restart", json!({"reload": false}), worker),
        other => {
            return Err(Error::Invalid(format!(
                "{} is not a Celery action",
                other.name()
            )))
        }
    };
    let dest = [worker.clone()];
    let r = control::call(c, method, args, Some(&dest), Some(1), c.timeout).await?;
    replies(r)
}

/// Retries the group's live failures one by one (each one MULTI, as `CeleryRetry`); a task whose
/// original message is unknown is skipped with the reason `message_unknown`.
async fn retry_group(c: &Celery, fingerprint: &str, expected: Option<u64>) -> Result<Outcome> {
    let ids = super::groups::live_members(c, fingerprint).await?;
    let count = ids.len() as u64;
    if let Some(e) = expected.filter(|e| *e != count) {
        return Err(Error::Conflict(format!(
            "The number of failed tasks in group {fingerprint} changed from {e} to {count}"
        )));
    }
    let mut out = crate::actions::JobsOutcome {
        done: Vec::new(),
        skipped: Vec::new(),
    };
    for id in ids {
        match super::retry::retry(c, &id).await {
            Ok(_) => out.done.push(id),
            Err(e) => out.skipped.push(crate::actions::Skipped {
                id,
                reason: match e {
                    Error::Conflict(_) => "message_unknown".into(),
                    Error::NotFound(_) => "not_found".into(),
                    other => return Err(other),
                },
            }),
        }
    }
    Ok(Outcome::Jobs(out))
}

fn replies(r: super::types::InspectReply) -> Result<Outcome> {
    match r.no_reply {
        Some(why) => Err(Error::NoReply(format!("{}: {why}", r.method))),
        None => Ok(Outcome::Replies { replies: r.replies }),
    }
}

/// Input bounds of the Celery actions (`Action::validate` delegates here).
pub fn validate(action: &Action) -> Result<()> {
    let count = |n: u64| {
        if (1..=limits::MAX_SLOTS).contains(&n) {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "process count must be 1 to {}, got {n}",
                limits::MAX_SLOTS
            )))
        }
    };
    let task = |t: &str| {
        if !t.is_empty() && t.len() <= 512 && !t.chars().any(char::is_control) {
            Ok(())
        } else {
            Err(Error::Invalid("task name: 1-512 characters".into()))
        }
    };
    match action {
        Action::CeleryRevoke { id, signal, .. } => {
            limits::validate_job_id(id)?;
            match signal.as_deref() {
                Some(s) if !SIGNALS.contains(&s) => Err(Error::Invalid(format!(
                    "unknown signal {:?}: one of {}",
                    limits::shorten(s),
                    SIGNALS.join(", ")
                ))),
                _ => Ok(()),
            }
        }
        Action::CeleryRetry { id } => limits::validate_job_id(id),
        Action::CeleryRetryGroup { fingerprint, .. } => limits::validate_fingerprint(fingerprint),
        Action::CeleryPoolGrow { worker, n } | Action::CeleryPoolShrink { worker, n } => {
            limits::validate_worker_name(worker)?;
            count(*n)
        }
        Action::CeleryAutoscale { worker, max, min } => {
            limits::validate_worker_name(worker)?;
            count(*max)?;
            if *min > *max {
                return Err(Error::Invalid(format!(
                    "autoscale min {min} is above max {max}"
                )));
            }
            Ok(())
        }
        Action::CeleryRateLimit {
            worker,
            task: t,
            rate,
        } => {
            limits::validate_worker_name(worker)?;
            task(t)?;
            validate_rate(rate)
        }
        Action::CeleryTimeLimit {
            worker,
            task: t,
            soft,
            hard,
        } => {
            limits::validate_worker_name(worker)?;
            task(t)?;
            for v in [soft, hard].into_iter().flatten() {
                if !(0.0..=MAX_TIME_LIMIT).contains(v) {
                    return Err(Error::Invalid(format!(
                        "time limits are 0 to {MAX_TIME_LIMIT} s"
                    )));
                }
            }
            Ok(())
        }
        Action::CeleryAddConsumer { worker, queue }
        | Action::CeleryCancelConsumer { worker, queue } => {
            limits::validate_worker_name(worker)?;
            limits::validate_queue_name(queue)
        }
        Action::CeleryShutdown { worker } | Action::CeleryPoolRestart { worker } => {
            limits::validate_worker_name(worker)
        }
        other => Err(Error::Invalid(format!(
            "{} is not a Celery action",
            other.name()
        ))),
    }
}

/// Celery's rate syntax: `N`, `N/s`, `N/m` or `N/h` (N may be a decimal; 0 = no limit).
pub fn validate_rate(rate: &str) -> Result<()> {
    let (n, unit) = rate.split_once('/').unwrap_or((rate, "s"));
    let ok = rate.len() <= 32
        && n.parse::<f64>().is_ok_and(|v| v.is_finite() && v >= 0.0)
        && matches!(unit, "s" | "m" | "h");
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "rate {:?} is not N, N/s, N/m or N/h",
            limits::shorten(rate)
        )))
    }
}

/// The audit target of a Celery action.
pub fn target(action: &Action) -> String {
    match action {
        Action::CeleryRevoke {
            id,
            terminate: true,
            signal,
        } => format!(
            "{id} (terminate, {})",
            signal.as_deref().unwrap_or("SIGTERM")
        ),
        Action::CeleryRevoke { id, .. } | Action::CeleryRetry { id } => id.clone(),
        Action::CeleryPoolGrow { worker, n } => format!("{worker} +{n}"),
        Action::CeleryPoolShrink { worker, n } => format!("{worker} -{n}"),
        Action::CeleryAutoscale { worker, max, min } => format!("{worker} {min}..{max}"),
        Action::CeleryRateLimit { worker, task, rate } => format!("{worker} {task} {rate}"),
        Action::CeleryTimeLimit { worker, task, .. } => format!("{worker} {task}"),
        Action::CeleryAddConsumer { worker, queue }
        | Action::CeleryCancelConsumer { worker, queue } => format!("{worker} {queue}"),
        Action::CeleryShutdown { worker } | Action::CeleryPoolRestart { worker } => worker.clone(),
        Action::CeleryRetryGroup { fingerprint, .. } => format!("group {fingerprint}"),
        _ => String::new(),
    }
}

/// Replies as a JSON object (API bodies).
pub fn replies_json(replies: &BTreeMap<String, Value>) -> Value {
    json!({ "replies": replies })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Action> {
        let w = || "w1@h".to_string();
        vec![
            Action::CeleryRevoke {
                id: "a".into(),
                terminate: true,
                signal: Some("SIGKILL".into()),
            },
            Action::CeleryRetry { id: "a".into() },
            Action::CeleryPoolGrow { worker: w(), n: 1 },
            Action::CeleryPoolShrink { worker: w(), n: 1 },
            Action::CeleryAutoscale {
                worker: w(),
                max: 4,
                min: 1,
            },
            Action::CeleryRateLimit {
                worker: w(),
                task: "t.add".into(),
                rate: "10/m".into(),
            },
            Action::CeleryTimeLimit {
                worker: w(),
                task: "t".into(),
                soft: Some(5.0),
                hard: None,
            },
            Action::CeleryAddConsumer {
                worker: w(),
                queue: "q".into(),
            },
            Action::CeleryCancelConsumer {
                worker: w(),
                queue: "q".into(),
            },
            Action::CeleryShutdown { worker: w() },
            Action::CeleryPoolRestart { worker: w() },
            Action::CeleryRetryGroup {
                fingerprint: "0123456789abcdef".into(),
                expected: Some(2),
            },
        ]
    }

    #[test]
    fn names_and_bounds() {
        let names: Vec<&str> = all().iter().map(Action::name).collect();
        assert_eq!(names, crate::actions::action::CELERY_NAMES);
        for a in all() {
            assert!(a.is_celery());
            assert!(a.validate().is_ok(), "{a:?}");
        }
        for bad in [
            Action::CeleryRevoke {
                id: "a b".into(),
                terminate: false,
                signal: None,
            },
            Action::CeleryRevoke {
                id: "a".into(),
                terminate: true,
                signal: Some("rm -rf".into()),
            },
            Action::CeleryPoolGrow {
                worker: "w".into(),
                n: 0,
            },
            Action::CeleryAutoscale {
                worker: "w".into(),
                max: 1,
                min: 2,
            },
            Action::CeleryRateLimit {
                worker: "w".into(),
                task: "t".into(),
                rate: "fast".into(),
            },
            Action::CeleryTimeLimit {
                worker: "w".into(),
                task: "t".into(),
                soft: Some(-1.0),
                hard: None,
            },
        ] {
            assert_eq!(
                bad.validate().unwrap_err().kind(),
                crate::ErrorKind::Invalid,
                "{bad:?}"
            );
        }
        assert!(validate_rate("100").is_ok());
        assert!(validate_rate("1.5/h").is_ok());
        assert!(validate_rate("5/d").is_err());
    }
}
