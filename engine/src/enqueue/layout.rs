//! The job hash as RQ 2.12's `Job.to_dict` lays it out (section 5.1 of the schema notes), built
//! from a validated `NewJob`, plus the keys and push options the enqueue scripts need.

use super::pyfmt::call_string;
use super::zfixed::deflate;
use super::{uuid4, NewJob, DEFAULT_TIMEOUT, MAX_FUNC_LEN};
use crate::codec::json::dumps_python as json_dumps;
use crate::limits::{validate_job_id, validate_queue_name};
use crate::{keys, Error, Result};
use serde_json::Value;

/// A validated job, ready for a script: keys, hash fields in RQ's write order, push options.
pub(super) struct Prepared {
    pub(super) id: String,
    pub(super) queue: String,
    pub(super) job_key: String,
    pub(super) queue_key: String,
    pub(super) parents: Vec<String>,
    pub(super) at_front: bool,
    pub(super) ttl: Option<i64>,
    pub(super) schedule_score: Option<i64>,
    pub(super) fields: Vec<(&'static str, Vec<u8>)>,
}

impl Prepared {
    pub(super) fn ttl_arg(&self) -> String {
        self.ttl.map(|t| t.to_string()).unwrap_or_default()
    }
    pub(super) fn field(&self, name: &str) -> &[u8] {
        self.fields
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

/// Validates like RQ's `Queue.create_job` and lays out the hash as RQ 2.12's `Job.to_dict`
/// (section 5.1 of the schema notes), preceded by `status` as RQ's separate `HSET status`.
pub(super) fn prepare(job: NewJob, stamp: &str) -> Result<Prepared> {
    validate_queue_name(&job.queue)?;
    if job.func.is_empty()
        || job.func.len() > MAX_FUNC_LEN
        || job.func.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "function path must be 1-{MAX_FUNC_LEN} printable characters"
        )));
    }
    let id = match job.id {
        Some(id) => {
            validate_job_id(&id)?;
            id
        }
        None => uuid4(),
    };
    let mut parents: Vec<String> = Vec::new();
    for parent in job.depends_on {
        validate_job_id(&parent)?;
        if parent == id {
            return Err(invalid("a job cannot depend on itself"));
        }
        if !parents.contains(&parent) {
            parents.push(parent);
        }
    }
    let timeout = job.timeout.unwrap_or(DEFAULT_TIMEOUT);
    if timeout == 0 {
        return Err(invalid("timeout 0 is not allowed; use -1 for no timeout"));
    }
    if matches!(job.ttl, Some(t) if t <= 0) {
        return Err(invalid("ttl must be greater than 0"));
    }
    if matches!(&job.retry, Some(r) if r.max < 1) {
        return Err(invalid("retry max must be at least 1"));
    }
    let schedule_score = match job.schedule_at {
        Some(t) if !t.is_finite() => return Err(invalid("schedule_at must be a finite time")),
        Some(_) if !parents.is_empty() => {
            return Err(invalid("a job cannot be both scheduled and dependent"))
        }
        Some(t) => Some(t.floor() as i64),
        None => None,
    };

    let description = match job.description {
        Some(d) => d,
        None => call_string(&job.func, &job.args, &job.kwargs),
    };
    let call = Value::Array(vec![
        Value::String(job.func),
        Value::Null,
        Value::Array(job.args),
        Value::Object(job.kwargs),
    ]);
    let data = deflate(json_dumps(&call).as_bytes());
    let text = |s: &str| s.as_bytes().to_vec();

    let mut f: Vec<(&'static str, Vec<u8>)> = Vec::with_capacity(24);
    // RQ issues `HSET status <s>` before the mapping, so `status` is the hash's first field.
    f.push(("status", text("queued")));
    f.push(("created_at", text(stamp)));
    f.push(("data", data));
    for always_empty in [
        "success_callback_name",
        "failure_callback_name",
        "stopped_callback_name",
        "started_at",
        "ended_at",
        "last_heartbeat",
        "worker_name",
        "group_id",
    ] {
        f.push((always_empty, Vec::new()));
    }
    if let Some(retry) = &job.retry {
        f.push(("retries_left", text(&retry.max.to_string())));
        // `Retry(max)` without an interval stores `[0]`.
        let intervals: Vec<Value> = if retry.intervals.is_empty() {
            vec![Value::from(0)]
        } else {
            retry.intervals.iter().map(|i| Value::from(*i)).collect()
        };
        f.push((
            "retry_intervals",
            text(&json_dumps(&Value::Array(intervals))),
        ));
    }
    f.push(("origin", text(&job.queue)));
    f.push(("description", text(&description)));
    if schedule_score.is_none() {
        // Dropped by the script if the job ends up deferred.
        f.push(("enqueued_at", text(stamp)));
    }
    f.push(("timeout", text(&timeout.to_string())));
    if let Some(t) = job.result_ttl {
        f.push(("result_ttl", text(&t.to_string())));
    }
    if let Some(t) = job.failure_ttl {
        f.push(("failure_ttl", text(&t.to_string())));
    }
    f.push((
        "status",
        text(if schedule_score.is_some() {
            "scheduled"
        } else {
            "queued"
        }),
    ));
    if let Some(first) = parents.first() {
        f.push(("dependency_id", text(first)));
        let list = Value::Array(parents.iter().map(|p| Value::String(p.clone())).collect());
        f.push(("dependency_ids", text(&json_dumps(&list))));
    }
    if let Some(meta) = job.meta.filter(|m| !m.is_empty()) {
        f.push(("meta", text(&json_dumps(&Value::Object(meta)))));
    }
    if let Some(t) = job.ttl {
        f.push(("ttl", text(&t.to_string())));
    }
    let flag = |b: bool| text(if b { "1" } else { "0" });
    if !parents.is_empty() && (job.allow_dependency_failures || job.at_front) {
        // What RQ writes for a `Dependency(jobs, allow_failure, enqueue_at_front)` object; the
        // dependents release reads both.
        f.push((
            "allow_dependency_failures",
            flag(job.allow_dependency_failures),
        ));
        f.push(("enqueue_at_front", flag(job.at_front)));
    } else if schedule_score.is_some() && job.at_front {
        // `enqueue_at(..., at_front=True)`: the scheduler pushes it to the front later.
        f.push(("enqueue_at_front", flag(true)));
    }

    Ok(Prepared {
        job_key: keys::job(&id),
        queue_key: keys::queue(&job.queue),
        queue: job.queue,
        id,
        parents,
        at_front: job.at_front,
        ttl: job.ttl,
        schedule_score,
        fields: f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enqueue::{NewJob, Retry};

    #[test]
    fn layout_follows_rq_to_dict() {
        let mut job = NewJob::new("tq", "exptasks.add").args(vec![1.into(), 2.into()]);
        job.retry = Some(Retry {
            max: 2,
            intervals: vec![],
        });
        job.meta = Some(
            serde_json::json!({"k": "v"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let p = prepare(job, "2026-11-21T11:19:05.169629Z").unwrap();
        let names: Vec<&str> = p.fields.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            names,
            [
                "status",
                "created_at",
                "data",
                "success_callback_name",
                "failure_callback_name",
                "stopped_callback_name",
                "started_at",
                "ended_at",
                "last_heartbeat",
                "worker_name",
                "group_id",
                "retries_left",
                "retry_intervals",
                "origin",
                "description",
                "enqueued_at",
                "timeout",
                "status",
                "meta"
            ]
        );
        let get = |n: &str| {
            p.fields
                .iter()
                .find(|(f, _)| *f == n)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("description"), b"exptasks.add(1, 2)");
        assert_eq!(get("retry_intervals"), b"[0]");
        assert_eq!(get("meta"), br#"{"k": "v"}"#);
        assert_eq!(get("created_at"), b"2026-11-21T11:19:05.169629Z");
        assert_eq!(get("timeout"), b"180");
        let data = crate::codec::zlib::inflate_bounded(&get("data"), 1000).unwrap();
        assert_eq!(data, br#"["exptasks.add", null, [1, 2], {}]"#);
    }

    #[test]
    fn rejects_what_rq_rejects() {
        let base = || NewJob::new("q", "m.f");
        assert!(prepare(
            NewJob {
                id: Some("a:b".into()),
                ..base()
            },
            ""
        )
        .is_err());
        assert!(prepare(
            NewJob {
                timeout: Some(0),
                ..base()
            },
            ""
        )
        .is_err());
        assert!(prepare(
            NewJob {
                ttl: Some(0),
                ..base()
            },
            ""
        )
        .is_err());
        assert!(prepare(
            NewJob {
                func: String::new(),
                ..base()
            },
            ""
        )
        .is_err());
        assert!(prepare(
            NewJob {
                queue: String::new(),
                ..base()
            },
            ""
        )
        .is_err());
        let own = NewJob {
            id: Some("x".into()),
            depends_on: vec!["x".into()],
            ..base()
        };
        assert!(prepare(own, "").is_err());
        let retry = Retry {
            max: 0,
            intervals: vec![],
        };
        assert!(prepare(
            NewJob {
                retry: Some(retry),
                ..base()
            },
            ""
        )
        .is_err());
        assert!(prepare(
            NewJob {
                timeout: Some(-1),
                ..base()
            },
            ""
        )
        .is_ok());
    }
}
