//! A job's timeline: enqueued → each start (worker, duration) → each outcome → the state it is
//! in now, assembled from what `job::fetch` already read (the hash, `rq:executions:<id>` with its
//! execution hashes, and `rq:results:<id>`), so it costs no extra Redis command.
//!
//! Why it is a reconstruction and says so: RQ overwrites `enqueued_at` / `started_at` /
//! `ended_at` on every run and caps the results stream at about 10 entries, and an exception
//! retried by RQ writes no result entry at all (only `retries_left` − 1). So each result entry
//! gives one start (its `execution_started_at`, worker) and one outcome; a running execution
//! gives one open start; a run older than the stream shows only through the hash's own
//! `started_at` / `ended_at`; `now` closes with the status and the retries left.

use crate::model::{JobDetail, ResultType, TimelineEvent, TimelineKind};
use crate::result::exc_summary;

/// The timeline of `d`, oldest first (undated steps keep their place after dated ones).
pub fn build(d: &JobDetail) -> Vec<TimelineEvent> {
    let s = &d.summary;
    let mut out = Vec::new();
    let ev = |kind, at, worker: Option<String>, duration, detail: Option<String>| TimelineEvent {
        kind,
        at,
        worker: worker.filter(|w| !w.is_empty()),
        duration,
        detail,
    };
    if let Some(at) = s.created_at {
        out.push(ev(TimelineKind::Created, Some(at), None, None, None));
    }
    if let Some(at) = s.enqueued_at {
        out.push(ev(TimelineKind::Enqueued, Some(at), None, None, None));
    }
    // Results are stored newest first; each one is a finished execution.
    let mut covered_started = false;
    for r in d.results.iter().rev() {
        let started = r.execution_started_at;
        let ended = r.execution_ended_at.or(r.created_at);
        if started.is_some() || r.execution_id.is_some() {
            let duration = started.zip(ended).map(|(a, b)| (b - a).max(0.0));
            out.push(ev(
                TimelineKind::Started,
                started,
                r.worker_name.clone(),
                duration,
                None,
            ));
        }
        if started.is_some() && started == s.started_at {
            covered_started = true;
        }
        let kind = match r.kind {
            ResultType::Successful => TimelineKind::Succeeded,
            ResultType::Failed | ResultType::Unknown => TimelineKind::Failed,
            ResultType::Stopped => TimelineKind::Stopped,
            ResultType::Retried => TimelineKind::Retried,
            ResultType::MaxRetriesExceeded => TimelineKind::MaxRetriesExceeded,
        };
        let exc = r.exc_string.as_deref().and_then(exc_summary);
        out.push(ev(kind, r.created_at, r.worker_name.clone(), None, exc));
    }
    // Executions still registered are running (RQ deletes them when the run ends).
    for x in &d.executions {
        if let (Some(c), Some(st)) = (x.created_at, s.started_at) {
            covered_started |= (c - st).abs() < 1.0;
        }
        out.push(ev(
            TimelineKind::Started,
            x.created_at,
            x.worker_name.clone(),
            None,
            Some("running".into()),
        ));
    }
    // The hash's own last run, when neither the stream nor an execution shows it (results
    // expired, a retried exception, RQ 1.16).
    if let (Some(started), false) = (s.started_at, covered_started) {
        let newer = out
            .iter()
            .filter(|e| e.kind == TimelineKind::Started)
            .all(|e| e.at.is_none_or(|at| at + 0.5 < started));
        if newer {
            let duration = s.ended_at.filter(|e| *e >= started).map(|e| e - started);
            out.push(ev(
                TimelineKind::Started,
                Some(started),
                s.worker_name.clone(),
                duration,
                None,
            ));
        }
    }
    let undated = f64::INFINITY;
    out.sort_by(|a, b| a.at.unwrap_or(undated).total_cmp(&b.at.unwrap_or(undated)));
    use crate::model::JobStatus::{Canceled, Failed, Finished, Stopped};
    // `ended_at` dates the state only when the job has ended (a requeued job keeps the old one).
    let ended = matches!(s.status, Some(Finished | Failed | Stopped | Canceled));
    let status = s.status.as_ref().map(|st| st.as_str().to_string());
    let detail = match (status, d.retries_left) {
        (Some(st), Some(n)) if n > 0 => format!("{st} ({n} retries left)"),
        (Some(st), _) => st,
        (None, _) => "unknown".into(),
    };
    out.push(ev(
        TimelineKind::Now,
        s.ended_at.filter(|_| ended),
        None,
        None,
        Some(detail),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Execution, JobResult, JobStatus};

    fn result(kind: ResultType, at: f64, started: f64, exc: Option<&str>) -> JobResult {
        JobResult {
            id: format!("{}-0", (at * 1000.0) as u64),
            created_at: Some(at),
            kind,
            worker_name: Some("w1".into()),
            return_value: None,
            exc_string: exc.map(str::to_string),
            execution_id: Some("x".into()),
            execution_started_at: Some(started),
            execution_ended_at: Some(at),
        }
    }

    fn kinds(t: &[TimelineEvent]) -> Vec<TimelineKind> {
        t.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn failed_then_requeued_then_succeeded() {
        let mut d = crate::job::detail_from_hash("j", None, "hash");
        d.summary.status = Some(JobStatus::Finished);
        d.summary.created_at = Some(100.0);
        d.summary.enqueued_at = Some(200.0); // the requeue
        d.summary.started_at = Some(201.0);
        d.summary.ended_at = Some(203.0);
        d.results = vec![
            result(ResultType::Successful, 203.0, 201.0, None),
            result(
                ResultType::Failed,
                102.0,
                101.0,
                Some("Traceback\nValueError: boom\n"),
            ),
        ];
        let t = build(&d);
        use TimelineKind::*;
        assert_eq!(
            kinds(&t),
            [Created, Started, Failed, Enqueued, Started, Succeeded, Now]
        );
        assert_eq!(t[1].duration, Some(1.0));
        assert_eq!(t[1].worker.as_deref(), Some("w1"));
        assert_eq!(t[2].detail.as_deref(), Some("ValueError: boom"));
        assert_eq!(
            (t[6].at, t[6].detail.as_deref()),
            (Some(203.0), Some("finished"))
        );
    }

    #[test]
    fn running_and_hash_only_runs() {
        // Results expired, an RQ-retried exception, now running again: the hash's last run and
        // the live execution.
        let mut d = crate::job::detail_from_hash("j", None, "hash");
        d.summary.status = Some(JobStatus::Started);
        d.summary.created_at = Some(100.0);
        d.summary.started_at = Some(150.0);
        d.summary.ended_at = Some(140.0); // stale, from an earlier run
        d.retries_left = Some(2);
        d.executions = vec![Execution {
            id: "x".into(),
            worker_name: Some("w2".into()),
            created_at: Some(150.2),
            last_heartbeat: None,
        }];
        let t = build(&d);
        use TimelineKind::*;
        assert_eq!(kinds(&t), [Created, Started, Now]);
        assert_eq!(t[1].detail.as_deref(), Some("running"));
        assert_eq!(
            t[2].at, None,
            "a running job's ended_at is not its state's time"
        );
        assert_eq!(t[2].detail.as_deref(), Some("started (2 retries left)"));

        // Nothing but the hash (RQ 1.16, results gone): one start from it.
        d.executions.clear();
        d.summary.status = Some(JobStatus::Failed);
        d.summary.ended_at = Some(151.5);
        let t = build(&d);
        assert_eq!(kinds(&t), [Created, Started, Now]);
        assert_eq!(t[1].duration, Some(1.5));
    }
}
