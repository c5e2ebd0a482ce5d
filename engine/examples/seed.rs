//! Seeds a Redis for the console benchmark (run by `bench/console.sh`): QUEUED jobs in queue
//! `big`, FAILED real failures in queue `failing`, 1,000 more in `flaky` (so /failed merges two
//! queues), and a few small queues so the overview has more than one row. Prints one JSON
//! object (timings and sample ids for the page URLs).
//!
//! usage: seed REDIS_URL [QUEUED] [FAILED]        (FLUSHDBs the given database first)
//!        seed REDIS_URL drain QUEUE              (burst pool on QUEUE; prints the failed count)
//!
//! The failures are honest RQ failures, not hand-written hashes: `taskmill.fail` jobs are
//! enqueued and drained by an in-process burst pool, so every one has status `failed`, an entry
//! in `rq:failed:failing` and a results-stream entry with `exc_string`, exactly as a worker
//! leaves them.

use std::time::Instant;

use engine::enqueue::{enqueue_many, NewJob, BATCH};
use engine::worker::{self, Handlers, PoolConfig, Shutdown};
use engine::Store;
use futures::stream::{self, StreamExt, TryStreamExt};
use redis::AsyncCommands;
use serde_json::json;

/// Real failures in the second failing queue, `flaky`.
const FLAKY: usize = 1_000;

/// Batches in flight at once: enough to keep Redis busy while the next batch is encoded.
const IN_FLIGHT: usize = 4;

/// Enqueues `n` jobs built by `make` in batches of `BATCH`; returns the first id.
async fn fill(store: &Store, n: usize, make: impl Fn(usize) -> NewJob) -> String {
    let batches: Vec<Vec<NewJob>> = (0..n)
        .step_by(BATCH)
        .map(|start| (start..(start + BATCH).min(n)).map(&make).collect())
        .collect();
    let ids: Vec<Vec<String>> = stream::iter(batches)
        .map(|batch| enqueue_many(store, batch))
        .buffered(IN_FLIGHT)
        .try_collect()
        .await
        .expect("enqueue_many");
    ids.first()
        .and_then(|b| b.first())
        .cloned()
        .unwrap_or_default()
}

/// Runs a 16-slot burst pool on `queue` until it is empty.
async fn drain(store: &Store, queue: &str) {
    let cfg = PoolConfig {
        queues: vec![queue.into()],
        concurrency: 16,
        burst: true,
        with_scheduler: false,
        ..PoolConfig::default()
    };
    worker::run(store.clone(), cfg, Handlers::builtin(), Shutdown::default())
        .await
        .expect("burst pool");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let url = argv
        .get(1)
        .cloned()
        .unwrap_or("redis://127.0.0.1:6379/15".into());
    let queued: usize = argv
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let store = Store::connect(&url).await.expect("connect");
    let mut c = store.conn();
    if argv.get(2).map(String::as_str) == Some("drain") {
        let queue = argv.get(3).cloned().unwrap_or("failing".into());
        drain(&store, &queue).await;
        let n: u64 = c.zcard(engine::keys::failed(&queue)).await.expect("zcard");
        println!("{}", json!({ "failed": n }));
        return;
    }
    let failed: usize = argv.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let _: () = redis::cmd("FLUSHDB")
        .query_async(&mut c)
        .await
        .expect("flushdb");
    let mut out = serde_json::Map::new();

    let t = Instant::now();
    let big_id = fill(&store, queued, |i| {
        NewJob::new("big", "reports.render")
            .args(vec![json!(i), json!("2024-06")])
            .kwargs(
                json!({"format": "pdf", "pages": i % 40})
                    .as_object()
                    .unwrap()
                    .clone(),
            )
    })
    .await;
    out.insert("queued".into(), json!(queued));
    out.insert("queued_seed_s".into(), json!(t.elapsed().as_secs_f64()));
    out.insert("queued_job".into(), json!(big_id));

    for (queue, n) in [("default", 40), ("high", 7), ("low", 3), ("reports", 12)] {
        fill(&store, n, |i| {
            NewJob::new(queue, "taskmill.echo").args(vec![json!(i)])
        })
        .await;
    }

    let t = Instant::now();
    let fail_id = fill(&store, failed, |i| {
        NewJob::new("failing", "taskmill.fail").args(vec![json!(format!("upstream timeout #{i}"))])
    })
    .await;
    drain(&store, "failing").await;
    let n_failed: u64 = c
        .zcard(engine::keys::failed("failing"))
        .await
        .expect("zcard");
    out.insert("failed".into(), json!(n_failed));
    out.insert("failed_seed_s".into(), json!(t.elapsed().as_secs_f64()));
    out.insert("failed_job".into(), json!(fail_id));

    // A second, smaller failing queue, failed last: /failed merges two queues at every depth.
    fill(&store, FLAKY, |i| {
        NewJob::new("flaky", "taskmill.fail").args(vec![json!(format!("flaky #{i}"))])
    })
    .await;
    drain(&store, "flaky").await;
    out.insert("flaky_failed".into(), json!(FLAKY));
    println!("{}", serde_json::Value::Object(out));
}
