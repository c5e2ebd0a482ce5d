//! Redis dies mid-run and comes back (AOF, so the data survives the restart): the console says
//! "Redis unreachable" with 503s (never a 500), the worker process rides it out, and afterwards
//! new jobs run and every job that was queued or running ends finished or failed — none stuck.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::state::Console;
use axum::http::StatusCode;
use engine::enqueue::{enqueue, NewJob};
use engine::testing::RedisServer;
use engine::{keys, Store};
use redis::AsyncCommands;
use serde_json::json;
use server::serve::{router, ServeConfig};

use crate::chaos::Spawned;
use crate::support::{free_port, get, send};

/// redis-server arguments for an fsync-always append-only file, so a SIGKILL loses nothing and a
/// restart on the same port (same dir) reloads everything.
const AOF: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

async fn statuses(store: &Store, ids: &[String]) -> Vec<Option<String>> {
    let mut p = redis::pipe();
    for id in ids {
        p.hget(keys::job(id), "status");
    }
    p.query_async(&mut store.conn()).await.unwrap_or_default()
}

async fn wait_until<F, Fut>(what: &str, secs: u64, worker: &Spawned, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what}\nworker log:\n{}",
            worker.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_mid_run_loses_nothing_and_everyone_recovers() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let mut redis = RedisServer::start_on(port, AOF);
    let store = Store::connect(&url).await.unwrap();
    let console = Arc::new(Console::new(Store::connect_lazy(&url).unwrap(), false));
    let app = router(console, ServeConfig::default());
    let mut worker = Spawned::start(
        &url,
        &[
            "worker",
            "--queues",
            "rr",
            "--concurrency",
            "2",
            "--lease",
            "3",
            "--heartbeat",
            "1",
            "--reap-interval",
            "1",
        ],
    );

    // A long job that is running when Redis dies, and a queue of short ones behind it.
    let long = enqueue(
        &store,
        NewJob::new("rr", "taskmill.sleep").args(vec![json!(4)]),
    )
    .await
    .unwrap();
    let mut ids = vec![long.clone()];
    for _ in 0..30 {
        let j = NewJob::new("rr", "taskmill.sleep").args(vec![json!(0.2)]);
        ids.push(enqueue(&store, j).await.unwrap());
    }
    wait_until(
        "the long job runs and short ones finish",
        20,
        &worker,
        || async {
            let s = statuses(&store, &ids).await;
            s[0].as_deref() == Some("started")
                && s.iter()
                    .filter(|s| s.as_deref() == Some("finished"))
                    .count()
                    >= 2
        },
    )
    .await;
    assert_eq!(send(&app, get("/healthz")).await.status, StatusCode::OK);

    redis.crash();
    let down_at = Instant::now();
    // The console notices: /healthz 503, pages say so, the API answers 503 — never a 500.
    let mut saw_503 = false;
    while !saw_503 {
        assert!(
            down_at.elapsed() < Duration::from_secs(15),
            "/healthz never went 503"
        );
        let r = send(&app, get("/healthz")).await;
        assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        saw_503 = r.status == StatusCode::SERVICE_UNAVAILABLE;
    }
    for uri in ["/", "/queues/rr", "/workers", &format!("/jobs/{long}")] {
        let r = send(&app, get(uri)).await;
        assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert!(r.body.contains("Redis unreachable"), "{uri}: {}", r.body);
    }
    let r = send(&app, get("/api/v1/overview")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.json()["code"], "redis_unavailable");
    // Stay down longer than the lease, so leases taken before the crash are stale on return.
    while down_at.elapsed() < Duration::from_secs(6) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        worker.alive(),
        "worker exited during the outage:\n{}",
        worker.logs()
    );

    let _redis = RedisServer::start_on(port, AOF);
    wait_until("/healthz is 200 again", 20, &worker, || async {
        send(&app, get("/healthz")).await.status == StatusCode::OK
    })
    .await;
    let r = send(&app, get("/queues/rr")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("Redis unreachable"));
    // The AOF kept the jobs: every one still exists.
    let before = statuses(&store, &ids).await;
    assert!(before.iter().all(Option::is_some), "jobs lost: {before:?}");

    // The worker reconnected: new work runs.
    let mut fresh = Vec::new();
    for _ in 0..5 {
        let j = NewJob::new("rr", "taskmill.echo").args(vec![json!("after")]);
        fresh.push(enqueue(&store, j).await.unwrap());
    }
    wait_until(
        "jobs enqueued after the restart finish",
        30,
        &worker,
        || async {
            statuses(&store, &fresh)
                .await
                .iter()
                .all(|s| s.as_deref() == Some("finished"))
        },
    )
    .await;
    // Everything from before ends in a defined state; nothing stays started past the lease.
    wait_until("pre-crash jobs finished or failed", 30, &worker, || async {
        statuses(&store, &ids)
            .await
            .iter()
            .all(|s| matches!(s.as_deref(), Some("finished") | Some("failed")))
    })
    .await;
    let wip: u64 = store.conn().zcard(keys::started("rr")).await.unwrap();
    assert_eq!(wip, 0);
    // Queued jobs all finish; only the one short job the second slot ran at the crash may have
    // been failed by a reaper (its lease went stale during the outage), with RQ's reason.
    let short = statuses(&store, &ids[1..]).await;
    let unfinished: Vec<&String> = ids[1..]
        .iter()
        .zip(&short)
        .filter(|(_, s)| s.as_deref() != Some("finished"))
        .map(|(id, _)| id)
        .collect();
    assert!(unfinished.len() <= 1, "{unfinished:?}");
    for id in unfinished.iter().copied().chain(Some(&long)) {
        if statuses(&store, std::slice::from_ref(id)).await[0].as_deref() == Some("failed") {
            let r = engine::result::fetch(&store, id).await.unwrap();
            let exc = r[0].exc_string.clone().unwrap_or_default();
            assert!(exc.contains("AbandonedJobError"), "{id}: {exc}");
        }
    }
    let logs = worker.logs();
    assert!(!logs.contains("panicked"), "{logs}");
    eprintln!(
        "after the restart: long job {:?}, short jobs not finished {unfinished:?}",
        statuses(&store, std::slice::from_ref(&long)).await[0]
    );
    assert!(worker.alive(), "{logs}");
    assert!(
        worker.terminate(15),
        "worker did not stop cleanly:\n{}",
        worker.logs()
    );
}
