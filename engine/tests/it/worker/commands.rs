//! Pub/sub commands (stop-job, kill-horse, scale, shutdown), suspension, queue order while
//! blocked, and the two shutdown stages.

use std::collections::HashMap;
use std::time::Duration;

use engine::command::Command;
use engine::enqueue::{enqueue, Retry};
use engine::worker::Handlers;
use engine::{keys, time, Store};
use redis::AsyncCommands;
use serde_json::json;

use super::*;
use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_job_and_kill_horse_commands() {
    let store = support::store().await;
    let a = enqueue(&store, job("cq", "taskmill.sleep", vec![json!(30)]))
        .await
        .unwrap();
    let (h, shutdown) = start(&store, cfg(&["cq"], 1, false), Handlers::builtin());
    let w = running_worker(&store, &a).await;
    // A stop-job for another id is ignored.
    assert_eq!(
        publish(
            &store,
            &w,
            Command::StopJob {
                job_id: "other".into()
            }
        )
        .await,
        1
    );
    assert_eq!(
        publish(&store, &w, Command::StopJob { job_id: a.clone() }).await,
        1
    );
    eventually("job stopped", 10, || async {
        status(&store, &a).await.as_deref() == Some("stopped")
    })
    .await;
    assert!(zscore(&store, &keys::failed("cq"), &a).await.is_some());
    let r = raw_results(&store, &a).await;
    assert_eq!(r[0]["type"], "2");
    assert!(!r[0].contains_key("execution_ended_at"));
    let exc = engine::result::fetch(&store, &a).await.unwrap()[0]
        .exc_string
        .clone();
    assert_eq!(
        exc.as_deref(),
        Some("Job stopped by user, work-horse terminated.")
    );

    let b = enqueue(&store, job("cq", "taskmill.sleep", vec![json!(30)]))
        .await
        .unwrap();
    let w = running_worker(&store, &b).await;
    publish(&store, &w, Command::KillHorse).await;
    eventually("job killed", 10, || async {
        status(&store, &b).await.as_deref() == Some("failed")
    })
    .await;
    let exc = engine::result::fetch(&store, &b).await.unwrap()[0]
        .exc_string
        .clone();
    assert!(exc
        .unwrap()
        .starts_with("Work-horse terminated unexpectedly"));
    // Trap 12: the killed job's hash has worker_name blanked, like RQ.
    assert_eq!(field(&store, &b, "worker_name").await.as_deref(), Some(""));

    shutdown.graceful.cancel();
    let report = tokio::time::timeout(Duration::from_secs(10), h)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.failed, 2);
}

async fn pool_slots(store: &Store, pool_id: &str) -> (Option<String>, usize) {
    let conc: Option<String> = store
        .conn()
        .hget(keys::pool(pool_id), "concurrency")
        .await
        .unwrap();
    let members: Vec<String> = store.conn().smembers(keys::WORKERS).await.unwrap();
    let live = members
        .iter()
        .filter(|m| m.starts_with(&keys::worker(pool_id)))
        .count();
    (conc, live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_and_shutdown_commands() {
    let store = support::store().await;
    let (h, _shutdown) = start(&store, cfg(&["sq"], 1, false), Handlers::builtin());
    eventually("pool registered", 10, || async {
        store.conn().scard::<_, u64>(keys::POOLS).await.unwrap() == 1
    })
    .await;
    let pools: Vec<String> = store.conn().smembers(keys::POOLS).await.unwrap();
    let pool_id = pools[0].clone();
    let slot0 = format!("{pool_id}.0");
    assert_eq!(pool_slots(&store, &pool_id).await, (Some("1".into()), 1));

    // A busy slot survives a scale-down until its job ends.
    let long = enqueue(&store, job("sq", "taskmill.sleep", vec![json!(1.5)]))
        .await
        .unwrap();
    publish(&store, &slot0, Command::Scale { slots: 3 }).await;
    eventually("scaled to 3", 10, || async {
        pool_slots(&store, &pool_id).await == (Some("3".into()), 3)
    })
    .await;
    let w: HashMap<String, String> = store
        .conn()
        .hgetall(keys::worker(&format!("{pool_id}.2")))
        .await
        .unwrap();
    assert_eq!(w.get("taskmill_pool"), Some(&pool_id));
    let _ = running_worker(&store, &long).await;
    publish(&store, &slot0, Command::Scale { slots: 1 }).await;
    eventually("scaled to 1", 10, || async {
        pool_slots(&store, &pool_id).await == (Some("1".into()), 1)
    })
    .await;
    eventually("long job finished", 10, || async {
        status(&store, &long).await.as_deref() == Some("finished")
    })
    .await;
    let dead: HashMap<String, String> = store
        .conn()
        .hgetall(keys::worker(&format!("{pool_id}.2")))
        .await
        .unwrap();
    assert!(dead.contains_key("death"));

    publish(&store, &slot0, Command::Shutdown).await;
    let report = tokio::time::timeout(Duration::from_secs(10), h)
        .await
        .expect("shutdown command stops the pool")
        .unwrap();
    assert_eq!(report.succeeded, 1);
    assert_eq!(pool_slots(&store, &pool_id).await, (None, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspended_burst_exits_and_blocking_wait_does_not_delay_shutdown() {
    let store = support::store().await;
    let id = enqueue(&store, job("zq", "taskmill.echo", vec![]))
        .await
        .unwrap();
    let _: () = store.conn().set(keys::SUSPENDED, 1).await.unwrap();
    let report = burst(&store, cfg(&["zq"], 2, true), Handlers::builtin()).await;
    assert_eq!(report.succeeded, 0);
    assert_eq!(status(&store, &id).await.as_deref(), Some("queued"));
    let _: () = store.conn().del(keys::SUSPENDED).await.unwrap();

    // Normal mode on two empty queues blocks in BLPOP; a graceful shutdown ends it promptly.
    let (h, shutdown) = start(
        &store,
        cfg(&["empty1", "empty2"], 2, false),
        Handlers::builtin(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = std::time::Instant::now();
    shutdown.graceful.cancel();
    tokio::time::timeout(Duration::from_secs(5), h)
        .await
        .unwrap()
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_arriving_while_blocked_run_in_queue_order() {
    let store = support::store().await;
    let (h, shutdown) = start(&store, cfg(&["o1", "o2"], 1, false), Handlers::builtin());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = enqueue(&store, job("o2", "taskmill.echo", vec![json!("a")]))
        .await
        .unwrap();
    eventually("a finished", 10, || async {
        status(&store, &a).await.as_deref() == Some("finished")
    })
    .await;
    let w = field(&store, &a, "worker_name").await.unwrap();
    // Suspend; b wakes the blocked BLPOP, the claim sees the suspension and puts b back.
    let _: () = store.conn().set(keys::SUSPENDED, 1).await.unwrap();
    let b = enqueue(&store, job("o2", "taskmill.echo", vec![json!("b")]))
        .await
        .unwrap();
    eventually("slot suspended", 10, || async {
        let st: Option<String> = store.conn().hget(keys::worker(&w), "state").await.unwrap();
        st.as_deref() == Some("suspended")
    })
    .await;
    assert_eq!(status(&store, &b).await.as_deref(), Some("queued"));
    let c = enqueue(&store, job("o1", "taskmill.echo", vec![json!("c")]))
        .await
        .unwrap();
    let _: () = store.conn().del(keys::SUSPENDED).await.unwrap();
    eventually("b finished", 10, || async {
        status(&store, &b).await.as_deref() == Some("finished")
    })
    .await;
    let started = |id: String| {
        let store = store.clone();
        async move { time::parse_rq(&field(&store, &id, "started_at").await.unwrap()).unwrap() }
    };
    // o1 comes first in CLI order, so c (o1) ran before b (o2).
    assert!(started(c).await <= started(b).await);
    shutdown.graceful.cancel();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_timeout_and_immediate_shutdown_abort_running_jobs() {
    let store = support::store().await;
    // Graceful with a short drain: the job outlives it and is recorded as failed.
    let a = enqueue(&store, job("gq", "taskmill.sleep", vec![json!(30)]))
        .await
        .unwrap();
    let mut config = cfg(&["gq"], 1, false);
    config.drain_timeout = Duration::from_millis(500);
    let (h, shutdown) = start(&store, config, Handlers::builtin());
    let w = running_worker(&store, &a).await;
    shutdown.graceful.cancel();
    eventually("shutdown marked on the busy slot", 5, || async {
        let d: Option<String> = store
            .conn()
            .hget(keys::worker(&w), "shutdown_requested_date")
            .await
            .unwrap();
        d.is_some()
    })
    .await;
    let report = tokio::time::timeout(Duration::from_secs(5), h)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.failed, 1);
    let exc = engine::result::fetch(&store, &a).await.unwrap()[0]
        .exc_string
        .clone()
        .unwrap();
    assert_eq!(exc, "taskmill: worker shut down before the job finished");

    // Immediate: a job with a retry left goes back to the queue instead.
    let mut b = job("gq", "taskmill.sleep", vec![json!(30)]);
    b.retry = Some(Retry {
        max: 1,
        intervals: vec![],
    });
    let b = enqueue(&store, b).await.unwrap();
    let (h, shutdown) = start(&store, cfg(&["gq"], 1, false), Handlers::builtin());
    let _ = running_worker(&store, &b).await;
    shutdown.immediate.cancel();
    let report = tokio::time::timeout(Duration::from_secs(5), h)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.retried, 1);
    assert_eq!(status(&store, &b).await.as_deref(), Some("queued"));
    let queued: Vec<String> = store.conn().lrange(keys::queue("gq"), 0, -1).await.unwrap();
    assert_eq!(queued, vec![b]);
}
