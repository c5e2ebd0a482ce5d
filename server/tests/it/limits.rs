//! Concurrency and rate limits with real `taskmill worker` processes on one Redis: a limit of 2
//! is never exceeded by two processes × 8 slots, a SIGKILLed worker's permit comes back within
//! the lease (every job still finishes, no holder left), a rate is kept, a bad limits file is
//! refused with its line (exit 2), and the limits are listed by the API with their use.

use std::process::Command;
use std::time::{Duration, Instant};

use engine::enqueue::{enqueue_many, NewJob, Retry};
use engine::{keys, Store};
use redis::AsyncCommands;
use serde_json::{json, Value};

use crate::chaos::Spawned;
use crate::redis::start_redis;
use crate::support::{ctx, get, send};

fn limits_file(text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "taskmill-limits-{}-{:08x}.toml",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&p, text).unwrap();
    p
}

fn worker_flags<'a>(queue: &'a str, file: &'a str) -> Vec<&'a str> {
    vec![
        "worker",
        "--queues",
        queue,
        "--concurrency",
        "8",
        "--limits",
        file,
        "--lease",
        "3",
        "--heartbeat",
        "1",
        "--reap-interval",
        "1",
    ]
}

/// (start, end) of each job's successful run, from its result (`taskmill.span` returns
/// `{"start", "end"}`; JSON serializer: the stream's `return_value` is base64 of the JSON).
pub async fn spans(store: &Store, ids: &[String]) -> Vec<(f64, f64)> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut conn = store.conn();
    for id in ids {
        let entries: redis::streams::StreamRangeReply =
            conn.xrange_all(keys::results(id)).await.unwrap();
        let v: Value = entries
            .ids
            .iter()
            .filter(|e| e.get::<String>("type").as_deref() == Some("1"))
            .filter_map(|e| e.get::<String>("return_value"))
            .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter_map(|raw| serde_json::from_slice(&raw).ok())
            .next_back()
            .unwrap_or_else(|| panic!("no successful result for {id}"));
        out.push((v["start"].as_f64().unwrap(), v["end"].as_f64().unwrap()));
    }
    out
}

/// Most runs overlapping at any instant.
fn max_overlap(spans: &[(f64, f64)]) -> usize {
    let mut ev: Vec<(f64, i32)> = spans
        .iter()
        .flat_map(|(s, e)| [(*s, 1), (*e, -1)])
        .collect();
    // Ends before starts at the same instant: back-to-back runs do not overlap.
    ev.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
    let (mut cur, mut max) = (0i32, 0i32);
    for (_, d) in ev {
        cur += d;
        max = max.max(cur);
    }
    max as usize
}

async fn all_finished(store: &Store, ids: &[String]) -> bool {
    let mut p = redis::pipe();
    for id in ids {
        p.hget(keys::job(id), "status");
    }
    let st: Vec<Option<String>> = p.query_async(&mut store.conn()).await.unwrap();
    st.iter().all(|s| s.as_deref() == Some("finished"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_two_is_never_exceeded_and_a_killed_workers_permit_comes_back() {
    let server = start_redis();
    let url = format!("redis://127.0.0.1:{}", server.port);
    let store = Store::connect(&url).await.unwrap();
    let file = limits_file("[functions.\"taskmill.span\"]\nconcurrency = 2\n");
    let f = file.to_string_lossy().to_string();
    let mut a = Spawned::start(&url, &worker_flags("lim", &f));
    let mut b = Spawned::start(&url, &worker_flags("lim", &f));
    let jobs: Vec<NewJob> = (0..16)
        .map(|_| {
            let mut j = NewJob::new("lim", "taskmill.span").args(vec![json!(0.4)]);
            j.retry = Some(Retry {
                max: 3,
                intervals: vec![],
            });
            j
        })
        .collect();
    let ids = enqueue_many(&store, jobs).await.unwrap();
    let holders = keys::limit_holders("fn:taskmill.span");
    let mut conn = store.conn();
    // Wait for both permits to be held, then SIGKILL one process (it may hold one or both).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n: u64 = conn.zcard(&holders).await.unwrap();
        if n == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "permits never taken\n{}",
            a.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed_holders: u64 = conn.zcard(&holders).await.unwrap();
    a.child.kill().unwrap();
    let _ = a.child.wait();
    let mut c = Spawned::start(&url, &worker_flags("lim", &f));
    let mut max_seen = 0u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !all_finished(&store, &ids).await {
        let now = engine::time::now();
        let n: u64 = conn
            .zcount(&holders, format!("({now}"), "+inf")
            .await
            .unwrap();
        max_seen = max_seen.max(n);
        assert!(n <= 2, "{n} permits held");
        assert!(
            Instant::now() < deadline,
            "jobs not finished (a permit leaked?)\n{}\n{}",
            b.logs(),
            c.logs()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let runs = spans(&store, &ids).await;
    let overlap = max_overlap(&runs);
    assert!(overlap <= 2, "{overlap} runs overlapped: {runs:?}");
    assert_eq!(
        overlap, 2,
        "the limit was never reached, the test proves nothing"
    );
    assert!(killed_holders >= 1 && max_seen <= 2);
    // Nothing held or parked once everything finished.
    let now = engine::time::now();
    let live: u64 = conn
        .zcount(&holders, format!("({now}"), "+inf")
        .await
        .unwrap();
    assert_eq!(live, 0);
    let waiting: u64 = conn
        .llen(keys::limit_waiting("fn:taskmill.span"))
        .await
        .unwrap();
    assert_eq!(waiting, 0);
    assert!(b.terminate(10) && c.terminate(10));
    let _ = std::fs::remove_file(file);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_kept_and_listed_with_its_use() {
    let server = start_redis();
    let url = format!("redis://127.0.0.1:{}", server.port);
    let store = Store::connect(&url).await.unwrap();
    let file = limits_file(
        "[functions.\"taskmill.span\"]\nrate = \"5/s\"\n[queues.rl]\nconcurrency = 50\n",
    );
    let f = file.to_string_lossy().to_string();
    let mut w = Spawned::start(&url, &worker_flags("rl", &f));
    let jobs: Vec<NewJob> = (0..15)
        .map(|_| NewJob::new("rl", "taskmill.span").args(vec![json!(0)]))
        .collect();
    let ids = enqueue_many(&store, jobs).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !all_finished(&store, &ids).await {
        assert!(Instant::now() < deadline, "not finished\n{}", w.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut starts: Vec<f64> = spans(&store, &ids).await.iter().map(|s| s.0).collect();
    starts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // 15 starts at 5/s: three windows, so at least 2 s from the first to the last.
    assert!(starts[14] - starts[0] >= 1.9, "{starts:?}");
    // No 0.95 s window (a little under the second, for the handler's start jitter) holds
    // more than 5 starts.
    for (i, s) in starts.iter().enumerate() {
        let n = starts[i..].iter().take_while(|t| **t < s + 0.95).count();
        assert!(n <= 5, "{n} starts within 0.95 s from {s}: {starts:?}");
    }
    // The console's API lists both limits (the worker publishes them).
    let x = ctx_on(&url).await;
    let r = send(&x, get("/api/v1/limits")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["fn:taskmill.span", "q:rl"], "{v}");
    assert_eq!(v[0]["limit"]["rate"]["count"], 5);
    assert_eq!(v[0]["waiting"], 0);
    let page = send(&x, get("/limits")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("taskmill.span") && page.body.contains("5/s"));
    assert!(w.terminate(10));
    let _ = std::fs::remove_file(file);
    drop(server);
}

async fn ctx_on(url: &str) -> axum::Router {
    let store = Store::connect(url).await.unwrap();
    let console = std::sync::Arc::new(app::state::Console::new(store, false));
    server::serve::router(console, server::serve::ServeConfig::default())
}

#[test]
fn a_bad_limits_file_is_refused_with_its_line() {
    for (text, line) in [
        (
            "[functions.a]\nconcurrency = 2\nrate = \"10/d\"\n",
            "line 3",
        ),
        ("[queues.q]\nconcurrency = -1\n", "line 2"),
        ("[functions.a]\nconcurency = 2\n", "line 2"),
        ("[functions.a\n", "line 1"),
    ] {
        let file = limits_file(text);
        let out = Command::new(env!("CARGO_BIN_EXE_taskmill"))
            .args(["--redis", "redis://127.0.0.1:1", "worker", "--queues", "q"])
            .arg("--limits")
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(line), "{text}: {err}");
        let _ = std::fs::remove_file(file);
    }
}

#[tokio::test]
async fn limits_api_is_empty_without_limits() {
    let c = ctx().await;
    let r = send(&c.app, get("/api/v1/limits")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([]));
}
