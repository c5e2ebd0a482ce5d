//! Fills a Redis with history as recording would leave it, then prints `INFO memory` figures
//! (run by `bench/stats.sh`, figures in `bench/RESULTS-stats.md`): QUEUES queues × FUNCTIONS
//! functions over DAYS days, through the same Lua the workers' finish call and the console's
//! sampler run (`engine::stats::record`, `engine::stats::write_sample`), on a simulated clock.
//!
//! Every function runs JOBS jobs a minute spread over three duration buckets (so each bucket
//! holds a sparse histogram of three entries), on one queue (round robin); every queue gets a
//! gauge sample a minute. The last 48 h are written minute by minute (1-minute buckets live
//! 48 h), older days hour by hour: their minute keys expire as they are written, as they would
//! have by now, so the keyspace is the steady state of DAYS days of recording.
//!
//! usage: seed_stats REDIS_URL [QUEUES] [FUNCTIONS] [DAYS]      (FLUSHDBs the database first)

use std::time::Instant;

use engine::model::{QueueCounts, Snapshot};
use engine::stats::{self, JobRecord};
use engine::Store;

/// Jobs per function per written step.
const JOBS: usize = 3;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: seed_stats REDIS_URL [QUEUES] [FUNCTIONS] [DAYS]");
    let num = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (queues, functions, days) = (num(2, 50), num(3, 200), num(4, 30) as i64);
    let store = Store::connect(url).await.expect("redis");
    let _: () = redis::cmd("FLUSHDB")
        .query_async(&mut store.conn())
        .await
        .unwrap();
    let before = used_memory(&store).await;
    let started = Instant::now();

    let now = engine::time::now() as i64;
    let now = now - now % 60;
    let minute_from = now - 48 * 3_600;
    let mut steps: Vec<i64> = (0..days * 24 - 48)
        .map(|h| now - days * 86_400 + h * 3_600)
        .filter(|t| *t < minute_from)
        .collect();
    steps.extend((minute_from..=now).step_by(60));

    let qname = |i: usize| format!("queue-{i:02}");
    let snap = Snapshot {
        queues: (0..queues)
            .map(|i| QueueCounts {
                name: qname(i),
                queued: 1_000 + i as u64,
                started: 4,
                oldest_queued_age: Some(12.5),
                ..QueueCounts::default()
            })
            .collect(),
        ..Snapshot::default()
    };
    let durations = [0.004, 0.2, 3.0];
    for (n, t) in steps.iter().enumerate() {
        let jobs: Vec<JobRecord> = (0..functions)
            .flat_map(|f| {
                (0..JOBS).map(move |j| JobRecord {
                    queue: qname(f % queues),
                    function: format!("app.tasks.function_{f:03}"),
                    ok: j != 0 || f % 10 != 0,
                    duration_s: durations[j % durations.len()],
                })
            })
            .collect();
        for chunk in jobs.chunks(300) {
            stats::record(&store, *t, chunk).await.expect("record");
        }
        stats::write_sample(&store, &snap, *t)
            .await
            .expect("sample");
        if n % 500 == 0 {
            eprintln!("{n}/{} steps", steps.len());
        }
    }
    let after = used_memory(&store).await;
    let keys: u64 = redis::cmd("DBSIZE")
        .query_async(&mut store.conn())
        .await
        .unwrap();
    println!(
        "{{\"queues\": {queues}, \"functions\": {functions}, \"days\": {days}, \"steps\": {}, \
         \"keys\": {keys}, \"used_memory_before\": {before}, \"used_memory_after\": {after}, \
         \"history_mb\": {:.1}, \"seed_s\": {:.1}}}",
        steps.len(),
        (after.saturating_sub(before)) as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
}

async fn used_memory(store: &Store) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut store.conn())
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
