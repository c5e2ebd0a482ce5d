//! The Celery part of `/metrics` (with `--celery-broker`): Flower's metric names, so Flower's
//! Grafana boards keep working (`flower_events_total`, `flower_task_runtime_seconds`,
//! `flower_worker_online`, `flower_worker_number_of_currently_executing_tasks`), from the
//! counters the event subscription keeps in memory; plus the queue depths Flower cannot see
//! (`taskmill_celery_queue_messages`, from the bounded, cached queue reads). Same auth as every
//! other route.

use engine::celery::events::RUNTIME_BUCKETS;
use engine::celery::Celery;

use crate::metrics::{family, sample};

/// Appends the Celery families; `queues` is the scrape's one read of Celery's queues.
pub async fn append(
    out: &mut String,
    c: &Celery,
    queues: engine::Result<engine::celery::types::CeleryQueues>,
) {
    let flower = c.flower.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let name = "flower_events_total";
    family(out, name, "counter", "Number of events");
    for ((worker, typ, task), n) in &flower.events {
        let labels = [
            ("task", task.as_str()),
            ("type", typ.as_str()),
            ("worker", worker.as_str()),
        ];
        sample(out, name, &labels, *n as f64);
    }
    let name = "flower_task_runtime_seconds";
    family(out, name, "histogram", "Task runtime");
    for ((task, worker), (count, sum, buckets)) in &flower.runtime {
        for (le, n) in RUNTIME_BUCKETS.iter().zip(buckets) {
            let le = le.to_string();
            let labels = [
                ("task", task.as_str()),
                ("worker", worker.as_str()),
                ("le", le.as_str()),
            ];
            sample(
                out,
                "flower_task_runtime_seconds_bucket",
                &labels,
                *n as f64,
            );
        }
        let labels = [
            ("task", task.as_str()),
            ("worker", worker.as_str()),
            ("le", "+Inf"),
        ];
        sample(
            out,
            "flower_task_runtime_seconds_bucket",
            &labels,
            *count as f64,
        );
        let labels = [("task", task.as_str()), ("worker", worker.as_str())];
        sample(out, "flower_task_runtime_seconds_sum", &labels, *sum);
        sample(
            out,
            "flower_task_runtime_seconds_count",
            &labels,
            *count as f64,
        );
    }
    let workers = c.workers();
    family(out, "flower_worker_online", "gauge", "Worker online status");
    for w in &workers {
        let v = if w.online { 1.0 } else { 0.0 };
        sample(
            out,
            "flower_worker_online",
            &[("worker", w.hostname.as_str())],
            v,
        );
    }
    let name = "flower_worker_number_of_currently_executing_tasks";
    family(
        out,
        name,
        "gauge",
        "Number of tasks currently executing at a worker",
    );
    for w in workers.iter().filter(|w| w.online) {
        sample(
            out,
            name,
            &[("worker", w.hostname.as_str())],
            w.active as f64,
        );
    }
    let status = c.event_status();
    let name = "taskmill_celery_events_connected";
    family(
        out,
        name,
        "gauge",
        "1 while the Celery event subscription is up",
    );
    sample(out, name, &[], if status.connected { 1.0 } else { 0.0 });
    match queues {
        Ok(q) => {
            let name = "taskmill_celery_queue_messages";
            family(
                out,
                name,
                "gauge",
                "Celery messages by queue: ready (in the lists), reserved (unacked)",
            );
            for q in &q.queues {
                sample(
                    out,
                    name,
                    &[("queue", q.name.as_str()), ("state", "ready")],
                    q.ready as f64,
                );
                sample(
                    out,
                    name,
                    &[("queue", q.name.as_str()), ("state", "reserved")],
                    q.reserved as f64,
                );
            }
            let name = "taskmill_celery_queue_consumers";
            family(
                out,
                name,
                "gauge",
                "Online Celery workers consuming the queue",
            );
            for q in &q.queues {
                sample(out, name, &[("queue", q.name.as_str())], q.consumers as f64);
            }
            let name = "taskmill_celery_queue_oldest_message_age_seconds";
            family(
                out,
                name,
                "gauge",
                "Age of the Celery queue's next message, when known (0 if empty or unknown)",
            );
            for q in &q.queues {
                let age = q.oldest_age_s.unwrap_or(0.0).max(0.0);
                sample(out, name, &[("queue", q.name.as_str())], age);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: celery queues not read"),
    }
}
