//! `/metrics` families from the history's running totals (`engine::stats::totals`): jobs
//! finished / failed per queue (Taskmill and Python workers) and Taskmill workers' durations per
//! queue and function. One HGETALL per queue, read once per cached snapshot: scrapes that share
//! a snapshot share the totals too.

use std::sync::{Arc, Mutex, Weak};

use app::state::Console;
use engine::model::{Snapshot, DURATION_BOUNDS};
use engine::stats::QueueTotals;

use super::{family, sample};

type Cached = (Weak<Snapshot>, Arc<Vec<QueueTotals>>);

/// The totals read for one snapshot (compared by identity; a new snapshot reads again).
static CACHE: Mutex<Option<Cached>> = Mutex::new(None);

/// Totals for the queues of `snap` and the history scopes `extra` (Celery's `celery:<queue>`),
/// `None` if Redis failed (the families are then left out).
pub async fn totals(
    c: &Console,
    snap: &Arc<Snapshot>,
    extra: &[String],
) -> Option<Arc<Vec<QueueTotals>>> {
    {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, t)) = cache.as_ref() {
            if s.upgrade().is_some_and(|s| Arc::ptr_eq(&s, snap)) {
                return Some(t.clone());
            }
        }
    }
    let queues: Vec<String> = snap
        .queues
        .iter()
        .map(|q| q.name.clone())
        .chain(extra.iter().cloned())
        .collect();
    match c.backend.stats_totals(&queues).await {
        Ok(t) => {
            let t = Arc::new(t);
            *CACHE.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((Arc::downgrade(snap), t.clone()));
            Some(t)
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: history totals failed");
            None
        }
    }
}

pub fn render(out: &mut String, totals: &[QueueTotals]) {
    let name = "taskmill_jobs_finished_total";
    family(
        out,
        name,
        "counter",
        "Jobs finished successfully, by queue (all workers)",
    );
    for t in totals {
        sample(out, name, &[("queue", &t.queue)], t.finished as f64);
    }
    let name = "taskmill_jobs_failed_total";
    family(
        out,
        name,
        "counter",
        "Jobs failed (retries and stops included), by queue (all workers)",
    );
    for t in totals {
        sample(out, name, &[("queue", &t.queue)], t.failed as f64);
    }
    let name = "taskmill_job_duration_seconds";
    family(
        out,
        name,
        "histogram",
        "Run time of jobs run by Taskmill workers, by queue and function (50 named per queue, the rest as other)",
    );
    let bucket = format!("{name}_bucket");
    for t in totals {
        for f in &t.functions {
            let labels = [
                ("queue", t.queue.as_str()),
                ("function", f.function.as_str()),
            ];
            let mut cumulative = 0u64;
            for (i, bound) in DURATION_BOUNDS.iter().enumerate() {
                cumulative += f.histogram.get(i).copied().unwrap_or(0);
                let le = bound.to_string();
                let l = [labels[0], labels[1], ("le", le.as_str())];
                sample(out, &bucket, &l, cumulative as f64);
            }
            let l = [labels[0], labels[1], ("le", "+Inf")];
            sample(out, &bucket, &l, f.count as f64);
            sample(out, &format!("{name}_sum"), &labels, f.sum_s);
            sample(out, &format!("{name}_count"), &labels, f.count as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use engine::stats::FunctionTotals;

    use super::*;

    #[test]
    fn histogram_is_cumulative_and_ends_with_inf() {
        let mut h = vec![0; engine::model::DURATION_BUCKETS];
        h[0] = 2;
        h[3] = 1;
        let t = QueueTotals {
            queue: "q\"x".into(),
            finished: 3,
            failed: 1,
            functions: vec![FunctionTotals {
                function: "app.f".into(),
                count: 4,
                sum_s: 0.5,
                histogram: h,
            }],
        };
        let mut out = String::new();
        render(&mut out, &[t]);
        assert!(
            out.contains("taskmill_jobs_finished_total{queue=\"q\\\"x\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("# TYPE taskmill_job_duration_seconds histogram\n"));
        assert!(out.contains(
            "taskmill_job_duration_seconds_bucket{queue=\"q\\\"x\",function=\"app.f\",le=\"0.01\"} 2\n"
        ));
        assert!(out.contains(
            "taskmill_job_duration_seconds_bucket{queue=\"q\\\"x\",function=\"app.f\",le=\"0.1\"} 3\n"
        ));
        assert!(out.contains(
            "taskmill_job_duration_seconds_bucket{queue=\"q\\\"x\",function=\"app.f\",le=\"+Inf\"} 4\n"
        ));
        assert!(out.contains(
            "taskmill_job_duration_seconds_count{queue=\"q\\\"x\",function=\"app.f\"} 4\n"
        ));
    }
}
