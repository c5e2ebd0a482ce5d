//! Recovery: the reaper (abandoned and stuck jobs), leases of long jobs, connection drops,
//! expired worker hashes, and the scheduler.

use std::collections::HashMap;
use std::time::Duration;

use engine::command::Command;
use engine::enqueue::{enqueue, NewJob, Retry};
use engine::worker::Handlers;
use engine::{keys, time, Store};
use redis::AsyncCommands;
use serde_json::json;

use super::*;
use crate::support;

/// Writes what a worker that then died would have left: started state with a lease in the past.
async fn fake_dead_execution(store: &Store, queue: &str, id: &str, score: f64) {
    let mut c = store.conn();
    let x = "0123456789abcdef0123456789abcdef";
    let now = time::format_rq(time::now());
    let _: () = c
        .hset_multiple(
            keys::job(id),
            &[
                ("status", "started"),
                ("started_at", now.as_str()),
                ("worker_name", "dead-worker"),
            ],
        )
        .await
        .unwrap();
    let _: () = c.lrem(keys::queue(queue), 1, id).await.unwrap();
    let _: () = c
        .zadd(keys::started(queue), keys::started_member(id, x), score)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaper_recovers_abandoned_and_stuck_jobs_but_not_live_ones() {
    let store = support::store().await;
    let now = time::now();
    let dead = enqueue(&store, job("pq", "taskmill.echo", vec![]))
        .await
        .unwrap();
    fake_dead_execution(&store, "pq", &dead, now.floor() - 1.0).await;
    let mut retry = job("pq", "taskmill.echo", vec![json!("second life")]);
    retry.retry = Some(Retry {
        max: 1,
        intervals: vec![],
    });
    let retry = enqueue(&store, retry).await.unwrap();
    fake_dead_execution(&store, "pq", &retry, now.floor() - 1.0).await;
    // A live Python RQ worker's entry: score now + 90, must survive.
    let live = enqueue(&store, job("pq", "taskmill.echo", vec![]))
        .await
        .unwrap();
    fake_dead_execution(&store, "pq", &live, now.floor() + 90.0).await;
    // An id stuck in the intermediate list (popped, never started).
    let stuck = enqueue(&store, job("pq", "taskmill.echo", vec![json!("stuck")]))
        .await
        .unwrap();
    let mut c = store.conn();
    let _: () = c.lrem(keys::queue("pq"), 1, &stuck).await.unwrap();
    let _: () = c.rpush(keys::intermediate("pq"), &stuck).await.unwrap();

    let (h, shutdown) = start(&store, cfg(&["pq"], 2, false), Handlers::builtin());
    eventually("abandoned job failed", 10, || async {
        status(&store, &dead).await.as_deref() == Some("failed")
    })
    .await;
    let r = raw_results(&store, &dead).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["worker_name"], "");
    let exc = engine::result::fetch(&store, &dead).await.unwrap()[0]
        .exc_string
        .clone()
        .unwrap();
    assert!(
        exc.starts_with("Moved to FailedJobRegistry, due to AbandonedJobError, at "),
        "{exc}"
    );
    eventually("abandoned job with retries ran again", 10, || async {
        status(&store, &retry).await.as_deref() == Some("finished")
    })
    .await;
    eventually("stuck job requeued and run", 15, || async {
        status(&store, &stuck).await.as_deref() == Some("finished")
    })
    .await;
    assert_eq!(status(&store, &live).await.as_deref(), Some("started"));
    let members: Vec<String> = c.zrange(keys::started("pq"), 0, -1).await.unwrap();
    assert_eq!(members.len(), 1);
    assert!(members[0].starts_with(&format!("{live}:")));
    shutdown.graceful.cancel();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_job_with_short_lease_is_never_reaped() {
    let store = support::store().await;
    let id = enqueue(&store, job("lq", "taskmill.sleep", vec![json!(4)]))
        .await
        .unwrap();
    let (h, shutdown) = start(&store, cfg(&["lq"], 2, false), Handlers::builtin());
    let _ = running_worker(&store, &id).await;
    // Throughout the run the lease stays in the future and the job keeps one execution.
    while status(&store, &id).await.as_deref() == Some("started") {
        let members: Vec<(String, f64)> = store
            .conn()
            .zrange_withscores(keys::started("lq"), 0, -1)
            .await
            .unwrap();
        if let Some((_, score)) = members.first() {
            assert!(
                *score >= time::now().floor(),
                "lease expired while the worker lives"
            );
        }
        assert!(members.len() <= 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status(&store, &id).await.as_deref(), Some("finished"));
    shutdown.graceful.cancel();
    let report = h.await.unwrap();
    assert_eq!(
        (report.succeeded, report.failed, report.retried, report.lost),
        (1, 0, 0, 0)
    );
    let r = raw_results(&store, &id).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["type"], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_drops_do_not_lose_jobs() {
    // A private server: this test kills every client connection, which would disturb others.
    let server = support::start_redis();
    let url = format!("redis://127.0.0.1:{}/0", server.port);
    let store = Store::connect(&url).await.unwrap();
    let a = enqueue(&store, job("nq", "taskmill.sleep", vec![json!(1.0)]))
        .await
        .unwrap();
    let (h, _shutdown) = start(&store, cfg(&["nq"], 2, false), Handlers::builtin());
    let slot = running_worker(&store, &a).await;
    // For 2 s, drop every connection (normal and pub/sub) every 100 ms, across the job's end.
    let mut killer = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for _ in 0..20 {
        for kind in ["normal", "pubsub"] {
            let _: redis::RedisResult<i64> = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg(kind)
                .arg("SKIPME")
                .arg("yes")
                .query_async(&mut killer)
                .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eventually("job finished after the outage", 20, || async {
        tolerant_status(&store, &a).await.as_deref() == Some("finished")
    })
    .await;
    // The pool is still working afterwards.
    let b = enqueue(&store, job("nq", "taskmill.echo", vec![]))
        .await
        .unwrap();
    eventually("next job runs", 20, || async {
        tolerant_status(&store, &b).await.as_deref() == Some("finished")
    })
    .await;
    // The pub/sub listener resubscribed: a shutdown command still reaches the pool.
    eventually("pool listens again", 10, || async {
        publish(&store, &slot, Command::Shutdown).await == 1
    })
    .await;
    let report = tokio::time::timeout(Duration::from_secs(10), h)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.succeeded, report.lost), (2, 0));
    assert_eq!(raw_results(&store, &a).await.len(), 1);
    drop(server);
}

/// `status` for a test that kills connections: its own reads may fail too.
async fn tolerant_status(store: &Store, id: &str) -> Option<String> {
    store
        .conn()
        .hget(keys::job(id), "status")
        .await
        .ok()
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_worker_hashes_are_born_again() {
    let store = support::store().await;
    let (h, shutdown) = start(&store, cfg(&["eq"], 1, false), Handlers::builtin());
    eventually("pool registered", 10, || async {
        store.conn().scard::<_, u64>(keys::POOLS).await.unwrap() == 1
    })
    .await;
    let pools: Vec<String> = store.conn().smembers(keys::POOLS).await.unwrap();
    let wkey = keys::worker(&format!("{}.0", pools[0]));
    // As if the key had expired during an outage and a stray write re-created part of it.
    let _: () = store.conn().del(&wkey).await.unwrap();
    let _: () = store.conn().hset(&wkey, "state", "idle").await.unwrap();
    eventually("worker hash rewritten in full", 10, || async {
        let w: HashMap<String, String> = store.conn().hgetall(&wkey).await.unwrap();
        w.contains_key("birth") && w.contains_key("queues") && w.contains_key("taskmill_pool")
    })
    .await;
    assert!(store
        .conn()
        .sismember::<_, _, bool>(keys::WORKERS, &wkey)
        .await
        .unwrap());
    let ttl: i64 = store.conn().ttl(&wkey).await.unwrap();
    assert!(ttl > 0);
    shutdown.graceful.cancel();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_moves_due_jobs_under_rq_lock() {
    let store = support::store().await;
    let mut due = job("hq", "taskmill.echo", vec![json!("due")]);
    due.schedule_at = Some(time::now() - 1.0);
    let due = enqueue(&store, due).await.unwrap();
    let mut later = job("hq", "taskmill.echo", vec![]);
    later.schedule_at = Some(time::now() + 3600.0);
    let later = enqueue(&store, later).await.unwrap();
    // Another scheduler holds the lock of a second queue: leave it alone.
    let _: () = store
        .conn()
        .set(keys::scheduler_lock("hq2"), "someone-else")
        .await
        .unwrap();
    let mut other = job("hq2", "taskmill.echo", vec![]);
    other.schedule_at = Some(time::now() - 1.0);
    let other = enqueue(&store, other).await.unwrap();

    let mut config = cfg(&["hq", "hq2"], 1, false);
    config.with_scheduler = true;
    let (h, shutdown) = start(&store, config, Handlers::builtin());
    eventually("due job ran", 10, || async {
        status(&store, &due).await.as_deref() == Some("finished")
    })
    .await;
    let owner: Option<String> = store.conn().get(keys::scheduler_lock("hq")).await.unwrap();
    let owner = owner.expect("lock held");
    assert_eq!(owner.len(), 32);
    let sched: HashMap<String, String> =
        store.conn().hgetall(keys::scheduler(&owner)).await.unwrap();
    assert_eq!(sched.get("queues").map(String::as_str), Some("hq"));
    assert_eq!(status(&store, &later).await.as_deref(), Some("scheduled"));
    assert_eq!(status(&store, &other).await.as_deref(), Some("scheduled"));
    shutdown.graceful.cancel();
    h.await.unwrap();
    // Released with compare-and-delete: ours gone, the foreign lock kept.
    assert!(!store
        .conn()
        .exists::<_, bool>(keys::scheduler_lock("hq"))
        .await
        .unwrap());
    assert!(store
        .conn()
        .exists::<_, bool>(keys::scheduler_lock("hq2"))
        .await
        .unwrap());
    assert!(!store
        .conn()
        .exists::<_, bool>(keys::scheduler(&owner))
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_pool_through_connection_drops_runs_each_job_once() {
    let server = support::start_redis();
    let url = format!("redis://127.0.0.1:{}/0", server.port);
    let store = Store::connect(&url).await.unwrap();
    let jobs: Vec<NewJob> = (0..300)
        .map(|i| job("bq", "taskmill.sleep", vec![json!(0.01)]).id(format!("j{i}")))
        .collect();
    engine::enqueue::enqueue_many(&store, jobs).await.unwrap();
    let (h, _shutdown) = start(&store, cfg(&["bq"], 8, true), Handlers::builtin());
    let killer = tokio::spawn({
        let url = url.clone();
        async move {
            let client = redis::Client::open(url.as_str()).unwrap();
            let mut c = client.get_multiplexed_async_connection().await.unwrap();
            for _ in 0..15 {
                tokio::time::sleep(Duration::from_millis(70)).await;
                let _: redis::RedisResult<i64> = redis::cmd("CLIENT")
                    .arg("KILL")
                    .arg("TYPE")
                    .arg("normal")
                    .arg("SKIPME")
                    .arg("yes")
                    .query_async(&mut c)
                    .await;
            }
        }
    });
    let report = tokio::time::timeout(Duration::from_secs(60), h)
        .await
        .unwrap()
        .unwrap();
    killer.await.unwrap();
    // The killer's last CLIENT KILL may have cut this test's own shared connection: its next
    // command fails once (broken pipe) while the manager reconnects. Wait until it answers.
    for _ in 0..50 {
        let pong: redis::RedisResult<String> =
            redis::cmd("PING").query_async(&mut store.conn()).await;
        if pong.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every job ran to success exactly once: one result entry each, none failed or reaped.
    assert_eq!((report.failed, report.retried, report.lost), (0, 0, 0));
    assert_eq!(report.succeeded, 300);
    for i in 0..300 {
        let id = format!("j{i}");
        assert_eq!(
            status(&store, &id).await.as_deref(),
            Some("finished"),
            "{id}"
        );
        assert_eq!(raw_results(&store, &id).await.len(), 1, "{id}");
    }
    let wip: u64 = store.conn().zcard(keys::started("bq")).await.unwrap();
    assert_eq!(wip, 0);
    drop(server);
}
