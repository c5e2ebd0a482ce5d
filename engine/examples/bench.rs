//! Taskmill side of the engine benchmark (run by `bench/engine.sh`, which also runs the Python RQ
//! side on the same Redis and prints ratios). Prints one JSON object.
//!
//! usage: bench REDIS_URL JOBS CONCURRENCY [TASKMILL_BIN]

use std::time::{Duration, Instant};

use engine::enqueue::{enqueue, enqueue_many, NewJob};
use engine::worker::{self, Handlers, PoolConfig, Shutdown};
use engine::Store;
use redis::AsyncCommands;
use serde_json::json;

async fn redis_totals(store: &Store) -> (f64, u64) {
    let mut c = store.conn();
    let cpu: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(&mut c)
        .await
        .unwrap();
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut c)
        .await
        .unwrap();
    let field = |name: &str| -> f64 {
        cpu.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    let calls = stats
        .lines()
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    (field("used_cpu_sys") + field("used_cpu_user"), calls)
}

/// CPU seconds (user + system) this process has used so far: the pool runs in-process.
fn own_cpu() -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn job(queue: &str, i: usize) -> NewJob {
    NewJob::new(queue, "taskmill.echo").args(vec![json!(i)])
}

/// The three queues of the multi-queue rows, in priority order.
const MULTI: [&str; 3] = ["mq1", "mq2", "mq3"];

struct Processed {
    done: u64,
    succeeded: u64,
    per_s: f64,
    cmds_per_job: f64,
    cpu_us_per_job: f64,
    worker_cpu_us_per_job: f64,
}

/// Drains `queues` (already filled) with a burst pool of `conc` slots.
async fn process(store: &Store, queues: &[&str], conc: usize, stats: bool) -> Processed {
    process_limited(store, queues, conc, stats, limits_none()).await
}

/// No limits (this build may predate them: `BENCH_NO_LIMITS` keeps the A/B baseline buildable).
fn limits_none() -> Option<&'static str> {
    None
}

/// [`process`] with a `--limits` TOML text (`None` = a pool without limits).
async fn process_limited(
    store: &Store,
    queues: &[&str],
    conc: usize,
    stats: bool,
    limits: Option<&str>,
) -> Processed {
    let mut c = store.conn();
    if stats {
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let (cpu0, cmd0) = redis_totals(store).await;
    let cfg = PoolConfig {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency: conc,
        burst: true,
        with_scheduler: false,
        ..PoolConfig::default()
    };
    let (t, own0) = (Instant::now(), own_cpu());
    let limits = limits
        .map(|t| engine::throttle::parse(t).expect("bench limits"))
        .unwrap_or_default();
    let report = worker::run_limited(
        store.clone(),
        cfg,
        Handlers::builtin(),
        Shutdown::default(),
        limits,
    )
    .await
    .unwrap();
    let dt = t.elapsed().as_secs_f64();
    let own = own_cpu() - own0;
    let (cpu1, cmd1) = redis_totals(store).await;
    let mut done = 0u64;
    for q in queues {
        let d: u64 = c.zcard(engine::keys::finished(q)).await.unwrap();
        done += d;
    }
    if stats {
        // Per-command breakdown of the processing phase (BENCH_STATS=1), to stderr.
        let s: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut c)
            .await
            .unwrap();
        eprintln!("processing, per job:");
        for l in s.lines().filter(|l| l.starts_with("cmdstat_")) {
            let f = |k: &str| -> f64 {
                l.split(&format!("{k}=")[..])
                    .nth(1)
                    .and_then(|v| v.split(',').next()?.parse().ok())
                    .unwrap_or(0.0)
            };
            let name = l
                .split(':')
                .next()
                .unwrap_or("")
                .trim_start_matches("cmdstat_");
            eprintln!(
                "  {name:<14} calls/job {:>6.2}  usec/job {:>7.2}  usec/call {:>6.2}",
                f("calls") / done.max(1) as f64,
                f("usec") / done.max(1) as f64,
                f("usec_per_call")
            );
        }
    }
    let per_job = |x: f64| x / done.max(1) as f64;
    Processed {
        done,
        succeeded: report.succeeded,
        per_s: done as f64 / dt,
        cmds_per_job: per_job((cmd1 - cmd0) as f64),
        cpu_us_per_job: per_job((cpu1 - cpu0) * 1e6),
        worker_cpu_us_per_job: per_job(own * 1e6),
    }
}

/// Enqueue→start latency (ms, sorted) of 300 jobs sent one at a time into `target` while a
/// live pool of 4 slots serves `queues`.
async fn latency(store: &Store, queues: &[&str], target: &str) -> Vec<f64> {
    let mut c = store.conn();
    let shutdown = Shutdown::default();
    let cfg = PoolConfig {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency: 4,
        ..PoolConfig::default()
    };
    let pool = tokio::spawn(worker::run(
        store.clone(),
        cfg,
        Handlers::builtin(),
        shutdown.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut lat = Vec::new();
    for i in 0..300 {
        let id = enqueue(store, job(target, i)).await.unwrap();
        let key = engine::keys::job(&id);
        let started = loop {
            let s: Option<String> = c.hget(&key, "started_at").await.unwrap();
            match s {
                Some(s) if !s.is_empty() => break s,
                _ => tokio::time::sleep(Duration::from_micros(200)).await,
            }
        };
        let enq: String = c.hget(&key, "enqueued_at").await.unwrap();
        let (s, e) = (
            engine::time::parse_rq(&started),
            engine::time::parse_rq(&enq),
        );
        if let (Some(s), Some(e)) = (s, e) {
            lat.push((s - e) * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.graceful.cancel();
    let _ = pool.await;
    lat.sort_by(|a, b| a.total_cmp(b));
    lat
}

fn percentiles(out: &mut serde_json::Map<String, serde_json::Value>, suffix: &str, lat: &[f64]) {
    if !lat.is_empty() {
        out.insert(format!("latency{suffix}_p50_ms"), json!(lat[lat.len() / 2]));
        out.insert(
            format!("latency{suffix}_p99_ms"),
            json!(lat[(lat.len() * 99 / 100).saturating_sub(1)]),
        );
    }
}

/// Commands per second the server receives over `secs` (only an idle worker is connected
/// besides us; our own INFO is subtracted).
async fn command_rate(store: &Store, secs: u64) -> f64 {
    let calls = || async {
        let s: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut store.conn())
            .await
            .unwrap();
        s.lines()
            .filter_map(|l| {
                l.split("calls=")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum::<u64>()
    };
    let c0 = calls().await;
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let c1 = calls().await;
    (c1 - c0).saturating_sub(1) as f64 / t.elapsed().as_secs_f64()
}

/// Starts a real `taskmill worker` (4 slots) on `queues` (comma-separated).
fn spawn_worker(bin: &str, url: &str, queues: &str) -> std::process::Child {
    std::process::Command::new(bin)
        .args([
            "worker",
            "--redis",
            url,
            "--queues",
            queues,
            "--concurrency",
            "4",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn taskmill worker")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let url = argv
        .get(1)
        .cloned()
        .unwrap_or("redis://127.0.0.1:6379/15".into());
    let n: usize = argv.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let conc: usize = argv.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
    let bin = argv.get(4).cloned();
    let store = Store::connect(&url).await.expect("connect");
    let mut c = store.conn();
    let _: () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();
    let mut out = serde_json::Map::new();
    out.insert("impl".into(), json!("taskmill"));
    out.insert("jobs".into(), json!(n));

    // Single enqueue, one round trip each.
    let single = n.min(5000);
    let t = Instant::now();
    for i in 0..single {
        enqueue(&store, job("single", i)).await.unwrap();
    }
    out.insert(
        "enqueue_single_per_s".into(),
        json!(single as f64 / t.elapsed().as_secs_f64()),
    );
    let _: () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();

    // Batch enqueue, 1000 per call.
    let t = Instant::now();
    for start in (0..n).step_by(1000) {
        let batch = (start..(start + 1000).min(n))
            .map(|i| job("bench", i))
            .collect();
        enqueue_many(&store, batch).await.unwrap();
    }
    out.insert(
        "enqueue_batch_per_s".into(),
        json!(n as f64 / t.elapsed().as_secs_f64()),
    );

    // Processing: burst pools drain the queues with full RQ state writes. Single queue (the
    // jobs enqueued above), then the same number spread over three queues (`--queues a,b,c`).
    let stats = std::env::var("BENCH_STATS").is_ok_and(|v| !v.is_empty());
    let p = process(&store, &["bench"], conc, stats).await;
    out.insert("processed".into(), json!(p.done));
    out.insert("succeeded_reported".into(), json!(p.succeeded));
    out.insert("process_per_s".into(), json!(p.per_s));
    out.insert("cmds_per_job".into(), json!(p.cmds_per_job));
    out.insert("cpu_us_per_job".into(), json!(p.cpu_us_per_job));
    out.insert(
        "worker_cpu_us_per_job".into(),
        json!(p.worker_cpu_us_per_job),
    );
    let _: () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();
    for start in (0..n).step_by(1000) {
        let batch = (start..(start + 1000).min(n))
            .map(|i| job(MULTI[i % MULTI.len()], i))
            .collect();
        enqueue_many(&store, batch).await.unwrap();
    }
    let p = process(&store, &MULTI, conc, false).await;
    out.insert("processed_multi".into(), json!(p.done));
    out.insert("process_multi_per_s".into(), json!(p.per_s));
    out.insert("cmds_per_job_multi".into(), json!(p.cmds_per_job));
    out.insert("cpu_us_per_job_multi".into(), json!(p.cpu_us_per_job));
    let _: () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();

    // Limits: unlimited jobs in a pool that has limits (on another function) pay ~nothing; a
    // rate-limited function runs at its configured rate (RATE/s, jobs over 3 windows).
    for start in (0..n).step_by(1000) {
        let batch = (start..(start + 1000).min(n))
            .map(|i| job("bench", i))
            .collect();
        enqueue_many(&store, batch).await.unwrap();
    }
    let other = "[functions.\"other.func\"]\nconcurrency = 2\nrate = \"10/s\"\n";
    let p = process_limited(&store, &["bench"], conc, false, Some(other)).await;
    out.insert("process_limits_pool_per_s".into(), json!(p.per_s));
    out.insert("cmds_per_job_limits_pool".into(), json!(p.cmds_per_job));
    let _: () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();
    const RATE: usize = 200;
    let rated = 3 * RATE + 1;
    for start in (0..rated).step_by(1000) {
        let batch = (start..(start + 1000).min(rated))
            .map(|i| job("rated", i))
            .collect();
        enqueue_many(&store, batch).await.unwrap();
    }
    let limit = format!("[functions.\"taskmill.echo\"]\nrate = \"{RATE}/s\"\n");
    let p = process_limited(&store, &["rated"], conc, false, Some(&limit)).await;
    out.insert("rate_configured_per_s".into(), json!(RATE));
    out.insert("rate_limited_per_s".into(), json!(p.per_s));
    out.insert("rate_limited_jobs".into(), json!(p.done));
    let _: () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();

    // Latency at low load: a live pool, one job at a time; multi-queue: into the last queue.
    let lat = latency(&store, &["lat"], "lat").await;
    percentiles(&mut out, "", &lat);
    let lat = latency(&store, &["lat1", "lat2", "lat3"], "lat3").await;
    percentiles(&mut out, "_multi", &lat);

    // A real `taskmill worker` process: idle RSS after 3 s, then the commands per second it
    // sends while idle (a 10 s window: two heartbeat and reaper periods), on one and on three
    // queues.
    if let Some(bin) = bin {
        let mut child = spawn_worker(&bin, &url, "idle");
        tokio::time::sleep(Duration::from_secs(3)).await;
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
        out.insert("idle_rss_kb".into(), json!(rss));
        out.insert(
            "idle_cmds_per_s".into(),
            json!(command_rate(&store, 10).await),
        );
        let _ = child.kill();
        let _ = child.wait();
        let mut child = spawn_worker(&bin, &url, "idle1,idle2,idle3");
        tokio::time::sleep(Duration::from_secs(3)).await;
        out.insert(
            "idle_cmds_per_s_multi".into(),
            json!(command_rate(&store, 10).await),
        );
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("{}", serde_json::Value::Object(out));
}
