//! Concurrency and rate limits in-process: four pools × 8 slots racing on one Redis never hold
//! more permits than the limit (measured from the runs' start / end times and by sampling the
//! holders), a queue limit serialises its queue, an expired lease (a dead holder) is handed on
//! by the tick, and jobs under no limit are not slowed by limits on others.

use std::time::{Duration, Instant};

use base64::Engine as _;
use engine::enqueue::{enqueue_many, NewJob};
use engine::throttle::{self, Limits};
use engine::worker::{self, Handlers, Shutdown};
use engine::{keys, Store};
use redis::AsyncCommands;
use serde_json::{json, Value};

use crate::support::store;
use crate::worker::cfg;

fn pools(
    store: &Store,
    queue: &str,
    n: usize,
    limits: &Limits,
) -> (Vec<tokio::task::JoinHandle<()>>, Shutdown) {
    let shutdown = Shutdown::default();
    let hs = (0..n)
        .map(|_| {
            let (store, s, l) = (store.clone(), shutdown.clone(), limits.clone());
            let c = cfg(&[queue], 8, false);
            tokio::spawn(async move {
                worker::run_limited(store, c, Handlers::builtin(), s, l)
                    .await
                    .expect("pool runs");
            })
        })
        .collect();
    (hs, shutdown)
}

async fn spans(store: &Store, ids: &[String]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for id in ids {
        let r: redis::streams::StreamRangeReply =
            store.conn().xrange_all(keys::results(id)).await.unwrap();
        let v: Value = r
            .ids
            .iter()
            .filter_map(|e| e.get::<String>("return_value"))
            .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter_map(|raw| serde_json::from_slice(&raw).ok())
            .next_back()
            .unwrap_or_else(|| panic!("no result for {id}"));
        out.push((v["start"].as_f64().unwrap(), v["end"].as_f64().unwrap()));
    }
    out
}

fn max_overlap(spans: &[(f64, f64)]) -> usize {
    let mut ev: Vec<(f64, i32)> = spans
        .iter()
        .flat_map(|(s, e)| [(*s, 1), (*e, -1)])
        .collect();
    ev.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
    let (mut cur, mut max) = (0, 0);
    for (_, d) in ev {
        cur += d;
        max = max.max(cur);
    }
    max as usize
}

async fn wait_finished(store: &Store, ids: &[String], secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let mut p = redis::pipe();
        for id in ids {
            p.hget(keys::job(id), "status");
        }
        let st: Vec<Option<String>> = p.query_async(&mut store.conn()).await.unwrap();
        let left = st
            .iter()
            .filter(|s| s.as_deref() != Some("finished"))
            .count();
        if left == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{left} jobs not finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_pools_never_exceed_a_concurrency_limit() {
    let store = store().await;
    let limits = throttle::parse("[functions.\"taskmill.span\"]\nconcurrency = 3\n").unwrap();
    let jobs: Vec<NewJob> = (0..60)
        .map(|_| NewJob::new("race", "taskmill.span").args(vec![json!(0.05)]))
        .collect();
    let ids = enqueue_many(&store, jobs).await.unwrap();
    let (hs, shutdown) = pools(&store, "race", 4, &limits);
    let holders = keys::limit_holders("fn:taskmill.span");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: u64 = store.conn().zcard(&holders).await.unwrap();
        assert!(n <= 3, "{n} permits held");
        let mut p = redis::pipe();
        for id in &ids {
            p.hget(keys::job(id), "status");
        }
        let st: Vec<Option<String>> = p.query_async(&mut store.conn()).await.unwrap();
        if st.iter().all(|s| s.as_deref() == Some("finished")) {
            break;
        }
        assert!(Instant::now() < deadline, "not finished");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    shutdown.graceful.cancel();
    for h in hs {
        h.await.unwrap();
    }
    let runs = spans(&store, &ids).await;
    let o = max_overlap(&runs);
    assert!(o <= 3, "{o} overlapping runs");
    assert_eq!(o, 3, "the limit was never reached");
    let left: u64 = store.conn().zcard(&holders).await.unwrap();
    let waiting: u64 = store
        .conn()
        .llen(keys::limit_waiting("fn:taskmill.span"))
        .await
        .unwrap();
    assert_eq!((left, waiting), (0, 0));
    // Each job ran once.
    for id in &ids {
        let n: u64 = store.conn().xlen(keys::results(id)).await.unwrap();
        assert_eq!(n, 1, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_permit_is_handed_on_after_its_lease() {
    let store = store().await;
    let limits = throttle::parse("[queues.lease]\nconcurrency = 1\n").unwrap();
    // A holder that will never release (its worker "died"): lease runs out in 1.5 s.
    let holders = keys::limit_holders("q:lease");
    let expiry = engine::time::now() + 1.5;
    let _: () = store
        .conn()
        .zadd(&holders, "ghost:x", expiry)
        .await
        .unwrap();
    let ids = enqueue_many(
        &store,
        vec![NewJob::new("lease", "taskmill.span").args(vec![json!(0)]); 3],
    )
    .await
    .unwrap();
    let (hs, shutdown) = pools(&store, "lease", 1, &limits);
    tokio::time::sleep(Duration::from_millis(800)).await;
    // Parked, not failed, not running.
    let waiting: u64 = store
        .conn()
        .llen(keys::limit_waiting("q:lease"))
        .await
        .unwrap();
    assert_eq!(waiting, 3, "all three wait for the permit");
    let st: Option<String> = store
        .conn()
        .hget(keys::job(&ids[0]), "status")
        .await
        .unwrap();
    assert_eq!(st.as_deref(), Some("queued"));
    wait_finished(&store, &ids, 10).await;
    let runs = spans(&store, &ids).await;
    assert!(
        runs.iter().all(|r| r.0 >= expiry - 0.05),
        "{runs:?} started before {expiry}"
    );
    assert_eq!(max_overlap(&runs), 1);
    shutdown.graceful.cancel();
    for h in hs {
        h.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_pool_waits_for_its_parked_jobs_and_keeps_the_rate() {
    let store = store().await;
    let limits = throttle::parse("[functions.\"taskmill.span\"]\nrate = \"10/s\"\n").unwrap();
    let ids = enqueue_many(
        &store,
        vec![NewJob::new("rate", "taskmill.span").args(vec![json!(0)]); 25],
    )
    .await
    .unwrap();
    let t = Instant::now();
    let report = worker::run_limited(
        store.clone(),
        cfg(&["rate"], 8, true),
        Handlers::builtin(),
        Shutdown::default(),
        limits,
    )
    .await
    .unwrap();
    assert_eq!(report.succeeded, 25, "{report:?}");
    // 25 starts at 10/s: the third window opens 2 s after the first start.
    assert!(
        t.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        t.elapsed()
    );
    let mut starts: Vec<f64> = spans(&store, &ids).await.iter().map(|s| s.0).collect();
    starts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    for (i, s) in starts.iter().enumerate() {
        let n = starts[i..].iter().take_while(|t| **t < s + 0.95).count();
        assert!(n <= 10, "{n} starts within 0.95 s: {starts:?}");
    }
}
