//! The demo's job handlers and its traffic generator: about once a second a realistic mix of
//! fast, slow, failing, retried, scheduled, dependent and exec jobs, so queues, registries,
//! workers and the failed page all have something to show.

use std::path::Path;
use std::time::Duration;

use engine::enqueue::{NewJob, Retry};
use engine::worker::handlers::JobError;
use engine::worker::Handlers;
use engine::Store;
use rand::Rng;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

fn ms(lo: u64, hi: u64) -> Duration {
    Duration::from_millis(rand::rng().random_range(lo..=hi))
}

fn fail(exc: &str) -> JobError {
    JobError {
        traceback: format!(
            "Traceback (most recent call last):\n  File \"demo.py\", line 1, in <module>\n{exc}"
        ),
    }
}

pub fn register_handlers(h: &mut Handlers) {
    h.register("demo.resize_image", |args, _| async move {
        tokio::time::sleep(ms(50, 300)).await;
        let path = args.first().cloned().unwrap_or(Value::Null);
        Ok(json!({ "path": path, "width": 320, "bytes": rand::rng().random_range(8_000..90_000) }))
    });
    h.register("demo.send_email", |args, _| async move {
        tokio::time::sleep(ms(20, 120)).await;
        Ok(json!({ "to": args.first().cloned().unwrap_or(Value::Null), "sent": true }))
    });
    h.register("demo.flaky", |_, _| async move {
        tokio::time::sleep(ms(50, 200)).await;
        if rand::rng().random_bool(0.3) {
            Err(fail("ConnectionError: upstream timed out after 30s"))
        } else {
            Ok(json!("ok"))
        }
    });
    h.register("demo.crunch", |args, _| async move {
        tokio::time::sleep(ms(2_000, 6_000)).await;
        let n = args.first().and_then(Value::as_u64).unwrap_or(10);
        let sum = u128::from(n) * (u128::from(n) + 1) / 2;
        Ok(json!({ "n": n, "sum": sum.to_string() }))
    });
    h.register("demo.build_report", |args, _| async move {
        tokio::time::sleep(ms(1_000, 3_000)).await;
        Ok(json!({ "report": args.first().cloned().unwrap_or(Value::Null), "rows": 1234 }))
    });
    // A long tail (most calls fast, a few very slow) so the Metrics page's percentiles and
    // histogram have a shape from the first minute.
    h.register("demo.geocode", |args, _| async move {
        let roll = rand::rng().random_range(0..100);
        let took = match roll {
            0 => ms(3_000, 8_000),
            1..=9 => ms(200, 800),
            _ => ms(10, 40),
        };
        tokio::time::sleep(took).await;
        Ok(json!({ "address": args.first().cloned().unwrap_or(Value::Null), "lat": 52.52, "lon": 13.4 }))
    });
    h.register("demo.charge_card", |_, kwargs| async move {
        tokio::time::sleep(ms(30, 100)).await;
        let amount = kwargs.get("amount").and_then(Value::as_f64).unwrap_or(0.0);
        Err(fail(&format!(
            "ValueError: card declined for amount {amount:.2}"
        )))
    });
}

/// Writes the demo's exec-handler TOML into `dir` and loads it; returns the function names
/// (empty if the file could not be loaded, which only costs the demo its exec jobs).
pub fn register_exec(h: &mut Handlers, dir: &Path) -> Vec<String> {
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| which(p))
        .map(str::to_string);
    let mut toml = String::from(
        "# Written by `taskmill demo`: exec handlers get the call as JSON on stdin.\n\
         [handlers.\"demo.exec_echo\"]\ncommand = [\"sh\", \"-c\", \"cat\"]\n",
    );
    let mut names = vec!["demo.exec_echo".to_string()];
    if let Some(py) = python {
        toml.push_str(&format!(
            "\n[handlers.\"demo.exec_wordcount\"]\ncommand = [\"{py}\", \"-c\", \
             \"import json,sys; c=json.load(sys.stdin); \
             print(json.dumps({{'words': len(' '.join(map(str, c['args'])).split())}}))\"]\n"
        ));
        names.push("demo.exec_wordcount".to_string());
    }
    let path = dir.join(format!(
        "taskmill-demo-handlers-{}.toml",
        std::process::id()
    ));
    let loaded = std::fs::write(&path, toml)
        .map_err(|e| e.to_string())
        .and_then(|()| Handlers::load_exec_toml(&path).map_err(|e| e.to_string()));
    // Parsed into memory: the file is not needed any more.
    let _ = std::fs::remove_file(&path);
    match loaded {
        Ok(exec) => {
            h.extend(exec);
            names
        }
        Err(e) => {
            tracing::warn!(error = %e, "demo: exec handlers unavailable");
            Vec::new()
        }
    }
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

/// Enqueues a batch about every second until `stop`.
pub async fn generate(store: Store, exec_funcs: Vec<String>, stop: CancellationToken) {
    let mut tick = 0u64;
    loop {
        let batch = plan(tick, &exec_funcs);
        for job in batch {
            if let Err(e) = engine::enqueue::enqueue(&store, job).await {
                tracing::warn!(error = %e, "demo traffic: enqueue failed");
            }
        }
        tick += 1;
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(ms(700, 1_300)) => {}
        }
    }
}

fn job(queue: &str, func: &str, args: Vec<Value>) -> NewJob {
    NewJob::new(queue, func).args(args)
}

/// One tick's jobs, in enqueue order. Dependent pairs get their parent id here so the child
/// (enqueued right after) can name it.
fn plan(tick: u64, exec_funcs: &[String]) -> Vec<NewJob> {
    let mut rng = rand::rng();
    let mut out = Vec::new();
    if tick == 0 {
        // Every demo queue has work from the first second, so a newcomer sees all four at once.
        out.push(job(
            "high",
            "demo.send_email",
            vec![json!("welcome@example.com")],
        ));
        out.push(job("low", "demo.crunch", vec![json!(1_000)]));
        out.push(job(
            "reports",
            "demo.build_report",
            vec![json!("daily-sales")],
        ));
    }
    for _ in 0..rng.random_range(1..=4) {
        let q = if rng.random_bool(0.3) {
            "high"
        } else {
            "default"
        };
        let img = format!("uploads/img_{:05}.jpg", rng.random_range(0..100_000));
        out.push(job(q, "demo.resize_image", vec![json!(img)]));
    }
    if rng.random_bool(0.5) {
        let to = format!("user{}@example.com", rng.random_range(1..500));
        out.push(job("high", "demo.send_email", vec![json!(to)]));
    }
    if rng.random_bool(0.4) {
        let mut j = job("default", "demo.flaky", vec![]);
        j.retry = Some(Retry {
            max: 2,
            intervals: vec![2, 5],
        });
        out.push(j);
    }
    if rng.random_bool(0.15) {
        let n = rng.random_range(10..10_000);
        out.push(job("low", "demo.crunch", vec![json!(n)]));
    }
    if tick % 10 == 3 {
        let name = ["daily-sales", "churn", "inventory"][rng.random_range(0..3)];
        out.push(job("reports", "demo.build_report", vec![json!(name)]));
    }
    if rng.random_bool(0.08) {
        let mut kw = Map::new();
        kw.insert("amount".into(), json!(rng.random_range(5.0..500.0)));
        out.push(NewJob::new("default", "demo.charge_card").kwargs(kw));
    }
    if rng.random_bool(0.12) {
        let mut j = job(
            "default",
            "demo.send_email",
            vec![json!("digest@example.com")],
        );
        j.schedule_at = Some(engine::time::now() + rng.random_range(10.0..60.0));
        out.push(j);
    }
    if rng.random_bool(0.1) {
        let parent_id = format!("demo-parent-{tick}-{:06x}", rng.random_range(0..0xff_ffff));
        let mut parent = job("low", "demo.crunch", vec![json!(100)]);
        parent.id = Some(parent_id.clone());
        let mut child = job("reports", "demo.build_report", vec![json!("after-crunch")]);
        child.depends_on = vec![parent_id];
        out.push(parent);
        out.push(child);
    }
    if !exec_funcs.is_empty() && rng.random_bool(0.2) {
        let f = &exec_funcs[rng.random_range(0..exec_funcs.len())];
        out.push(job(
            "default",
            f,
            vec![json!("the quick brown fox"), json!(tick)],
        ));
    }
    if rng.random_bool(0.1) {
        out.push(job("low", "taskmill.echo", vec![json!({ "tick": tick })]));
    }
    for _ in 0..rng.random_range(0..=3) {
        let street = format!("{} Main St", rng.random_range(1..2_000));
        out.push(job("default", "demo.geocode", vec![json!(street)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_valid_jobs() {
        for tick in 0..200 {
            for j in plan(tick, &["demo.exec_echo".to_string()]) {
                assert!(
                    crate::demo::QUEUES.contains(&j.queue.as_str()),
                    "{}",
                    j.queue
                );
                if let Some(id) = &j.id {
                    engine::limits::validate_job_id(id).unwrap();
                }
            }
        }
    }
}
