//! `/metrics`: Prometheus text rendered from ONE cached snapshot, so a scrape costs
//! O(queues + workers) Redis commands at most once per second however often it is scraped.
//! Metric names follow rq-exporter so existing dashboards and alerts keep working; the history
//! families (`taskmill_jobs_*`, `taskmill_job_duration_seconds`) are in `metrics/history.rs`.

mod history;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use app::state::Console;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use engine::model::{JobList, Snapshot, WorkerInfo};

/// Reads one per-worker counter out of a `WorkerInfo`.
type WorkerValue = fn(&WorkerInfo) -> f64;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn handler(State(c): State<Arc<Console>>) -> Response {
    respond(body(&c).await)
}

/// The exposition text as one response.
pub fn respond(body: String) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    res
}

/// One console's exposition text (its Redis down: the health series only).
pub async fn body(c: &Arc<Console>) -> String {
    let started = Instant::now();
    let snap = match c.snapshot().await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: snapshot failed");
            None
        }
    };
    // Celery's queues, read once per scrape (bounded, cached reads: O(queues) Redis work).
    let celery_queues = match &c.celery {
        Some(cel) => Some(engine::celery::queues::list(cel).await),
        None => None,
    };
    // Celery's finished / failed totals live in the history under `celery:<queue>`.
    let celery_scopes: Vec<String> = match &celery_queues {
        Some(Ok(q)) => q
            .queues
            .iter()
            .map(|q| q.name.as_str())
            .chain([engine::celery::history::UNKNOWN_QUEUE])
            .map(engine::celery::history::scope)
            .collect(),
        _ => Vec::new(),
    };
    let totals = match &snap {
        Some(s) => history::totals(c, s, &celery_scopes).await,
        None => None,
    };
    let mut body = render(snap.as_deref(), started.elapsed().as_secs_f64());
    if let Some(t) = totals {
        history::render(&mut body, &t);
    }
    if let (Some(celery), Some(queues)) = (&c.celery, celery_queues) {
        crate::metrics_celery::append(&mut body, celery, queues).await;
    }
    body
}

/// The exposition text; `None` = Redis unreachable (only the `taskmill_*` health series).
pub fn render(snap: Option<&Snapshot>, scrape_secs: f64) -> String {
    let mut out = String::with_capacity(4096);
    if let Some(s) = snap {
        family(&mut out, "rq_jobs", "gauge", "RQ jobs by queue and status");
        for q in &s.queues {
            for list in JobList::ALL {
                let labels = [("queue", q.name.as_str()), ("status", list.as_str())];
                sample(&mut out, "rq_jobs", &labels, q.get(list) as f64);
            }
        }
        family(&mut out, "rq_workers", "gauge", "RQ workers");
        let rows: Vec<(String, &WorkerInfo)> =
            s.workers.iter().map(|w| (w.queues.join(","), w)).collect();
        for (queues, w) in &rows {
            let labels = [
                ("name", w.name.as_str()),
                ("queues", queues),
                ("state", &w.state),
            ];
            sample(&mut out, "rq_workers", &labels, 1.0);
        }
        let counters: [(&str, &str, WorkerValue); 3] = [
            (
                "rq_workers_success_total",
                "Successful job count by worker",
                |w| w.successful_job_count as f64,
            ),
            (
                "rq_workers_failed_total",
                "Failed job count by worker",
                |w| w.failed_job_count as f64,
            ),
            (
                "rq_workers_working_time_total",
                "Total working time in seconds by worker",
                |w| w.total_working_time,
            ),
        ];
        for (name, help, value) in counters {
            family(&mut out, name, "counter", help);
            for (queues, w) in &rows {
                let labels = [("name", w.name.as_str()), ("queues", queues.as_str())];
                sample(&mut out, name, &labels, value(w));
            }
        }
        let name = "taskmill_queue_oldest_job_age_seconds";
        family(
            &mut out,
            name,
            "gauge",
            "Age of the job at the head of the queue (0 if empty)",
        );
        for q in &s.queues {
            let age = q.oldest_queued_age.unwrap_or(0.0).max(0.0);
            sample(&mut out, name, &[("queue", q.name.as_str())], age);
        }
    }
    family(
        &mut out,
        "taskmill_redis_up",
        "gauge",
        "1 if Redis answered the last snapshot",
    );
    sample(
        &mut out,
        "taskmill_redis_up",
        &[],
        if snap.is_some() { 1.0 } else { 0.0 },
    );
    let name = "taskmill_scrape_duration_seconds";
    family(&mut out, name, "gauge", "Time spent building this response");
    sample(&mut out, name, &[], scrape_secs);
    out
}

pub(crate) fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

pub(crate) fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", format_value(value));
}

/// Label values escape `\`, `"` and newline (text exposition format 0.0.4).
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_labels() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
    }

    #[test]
    fn redis_down_still_renders_health() {
        let text = render(None, 0.25);
        assert!(text.contains("taskmill_redis_up 0\n"));
        assert!(text.contains("taskmill_scrape_duration_seconds 0.25\n"));
        assert!(!text.contains("rq_jobs"));
    }

    #[test]
    fn values() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.5), "0.5");
        assert_eq!(format_value(f64::NAN), "NaN");
    }
}
