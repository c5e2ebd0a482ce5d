//! The worker runtime against a real Redis: job outcomes in RQ's exact state (results stream,
//! registries, TTLs, worker hashes), retries, timeouts, dependents, pub/sub commands, scaling,
//! burst/shutdown, the reaper, the scheduler and exec handlers.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use base64::Engine as _;
use engine::command::Command;
use engine::enqueue::{enqueue, NewJob, Retry};
use engine::model::ResultType;
use engine::worker::{self, Handlers, PoolConfig, PoolReport, Shutdown};
use engine::{keys, time, Store};
use redis::AsyncCommands;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::support;

/// Short intervals so lease expiry and reaping happen within a test.
fn cfg(queues: &[&str], slots: usize, burst: bool) -> PoolConfig {
    PoolConfig {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency: slots,
        burst,
        with_scheduler: false,
        heartbeat_interval: Duration::from_millis(300),
        lease: Duration::from_secs(2),
        reap_interval: Duration::from_millis(300),
        drain_timeout: Duration::from_secs(5),
    }
}

fn start(
    store: &Store,
    config: PoolConfig,
    handlers: Handlers,
) -> (JoinHandle<PoolReport>, Shutdown) {
    let shutdown = Shutdown::default();
    let s = shutdown.clone();
    let store = store.clone();
    let h = tokio::spawn(async move {
        worker::run(store, config, handlers, s)
            .await
            .expect("pool runs")
    });
    (h, shutdown)
}

async fn burst(store: &Store, config: PoolConfig, handlers: Handlers) -> PoolReport {
    let (h, _s) = start(store, config, handlers);
    tokio::time::timeout(Duration::from_secs(30), h)
        .await
        .expect("burst run ends")
        .unwrap()
}

async fn eventually<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn field(store: &Store, id: &str, f: &str) -> Option<String> {
    store.conn().hget(keys::job(id), f).await.unwrap()
}

async fn status(store: &Store, id: &str) -> Option<String> {
    field(store, id, "status").await
}

fn job(queue: &str, func: &str, args: Vec<Value>) -> NewJob {
    NewJob::new(queue, func).args(args)
}

/// Raw result entries, oldest first, as field maps.
async fn raw_results(store: &Store, id: &str) -> Vec<HashMap<String, String>> {
    let reply: redis::streams::StreamRangeReply =
        store.conn().xrange_all(keys::results(id)).await.unwrap();
    reply
        .ids
        .into_iter()
        .map(|e| {
            e.map
                .into_iter()
                .map(|(k, v)| (k, redis::from_redis_value::<String>(v).unwrap()))
                .collect()
        })
        .collect()
}

fn unb64(s: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

async fn zscore(store: &Store, key: &str, member: &str) -> Option<f64> {
    store.conn().zscore(key, member).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_job_finishes_with_rq_result_state() {
    let store = support::store().await;
    let mut j = job("wq", "taskmill.echo", vec![json!(1), json!("é")]);
    j.kwargs.insert("k".into(), json!(2));
    let id = enqueue(&store, j).await.unwrap();
    let report = burst(&store, cfg(&["wq"], 2, true), Handlers::builtin()).await;
    assert_eq!((report.succeeded, report.failed, report.lost), (1, 0, 0));

    assert_eq!(status(&store, &id).await.as_deref(), Some("finished"));
    let worker_name = field(&store, &id, "worker_name").await.unwrap();
    assert!(worker_name.starts_with(&report.pool_id), "{worker_name}");
    assert!(field(&store, &id, "ended_at")
        .await
        .and_then(|t| time::parse_rq(&t))
        .is_some());
    let results = raw_results(&store, &id).await;
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["type"], "1");
    assert_eq!(r["worker_name"], worker_name);
    assert_eq!(
        unb64(&r["return_value"]),
        r#"{"args": [1, "\u00e9"], "kwargs": {"k": 2}}"#
    );
    assert_eq!(r["execution_id"].len(), 32);
    assert!(
        r["execution_started_at"].parse::<f64>().unwrap()
            <= r["execution_ended_at"].parse::<f64>().unwrap()
    );

    let now = time::now();
    let score = zscore(&store, &keys::finished("wq"), &id).await.unwrap();
    assert!(
        (score - (now + 500.0)).abs() < 5.0,
        "finished score {score}"
    );
    let ttl: i64 = store.conn().ttl(keys::job(&id)).await.unwrap();
    assert!((490..=500).contains(&ttl), "job ttl {ttl}");
    let rttl: i64 = store.conn().ttl(keys::results(&id)).await.unwrap();
    assert!((490..=500).contains(&rttl), "results ttl {rttl}");
    let wip: u64 = store.conn().zcard(keys::started("wq")).await.unwrap();
    assert_eq!(wip, 0);
    let im: u64 = store.conn().llen(keys::intermediate("wq")).await.unwrap();
    assert_eq!(im, 0);
    let execs: u64 = store.conn().zcard(keys::executions(&id)).await.unwrap();
    assert_eq!(execs, 0);
    assert!(!store
        .conn()
        .exists::<_, bool>(keys::execution(&id, &r["execution_id"]))
        .await
        .unwrap());

    // Clean death: off both sets, `death` set, counters kept, short TTL.
    let wkey = keys::worker(&worker_name);
    assert!(!store
        .conn()
        .sismember::<_, _, bool>(keys::WORKERS, &wkey)
        .await
        .unwrap());
    assert!(!store
        .conn()
        .sismember::<_, _, bool>(keys::workers_of_queue("wq"), &wkey)
        .await
        .unwrap());
    let w: HashMap<String, String> = store.conn().hgetall(&wkey).await.unwrap();
    assert!(w.contains_key("death"));
    assert_eq!(w["successful_job_count"], "1");
    assert_eq!(
        w["version"],
        concat!("taskmill-", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(w["python_version"], "n/a (Taskmill, Rust)");
    assert_eq!(w["taskmill_pool"], report.pool_id);
    assert_eq!(w["queues"], "wq");
    assert!(!w.contains_key("current_job"));
    assert!(!store
        .conn()
        .exists::<_, bool>(keys::pool(&report.pool_id))
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_record_tracebacks_in_the_failed_registry() {
    let store = support::store().await;
    let boom = enqueue(
        &store,
        job("fq", "taskmill.fail", vec![json!("ValueError: boom")]),
    )
    .await
    .unwrap();
    let missing = enqueue(&store, job("fq", "nope.nothing", vec![]))
        .await
        .unwrap();
    // A payload that is not a JSON 4-tuple (hostile data), written raw.
    let mut c = store.conn();
    let _: () = c
        .hset_multiple(
            keys::job("garbage"),
            &[
                ("data", "\u{80}\u{5}not json"),
                ("origin", "fq"),
                ("status", "queued"),
            ],
        )
        .await
        .unwrap();
    let _: () = c.rpush(keys::queue("fq"), "garbage").await.unwrap();
    // An id whose hash is gone is skipped.
    let _: () = c.rpush(keys::queue("fq"), "ghost").await.unwrap();

    let report = burst(&store, cfg(&["fq"], 1, true), Handlers::builtin()).await;
    assert_eq!((report.succeeded, report.failed), (0, 3));
    let expect = [
        (&boom, "ValueError: boom"),
        (
            &missing,
            "taskmill: no handler registered for 'nope.nothing'",
        ),
        (&"garbage".to_string(), "rq.exceptions.DeserializationError"),
    ];
    let now = time::now();
    for (id, text) in expect {
        assert_eq!(status(&store, id).await.as_deref(), Some("failed"), "{id}");
        let results = engine::result::fetch(&store, id).await.unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].kind, ResultType::Failed);
        assert!(
            results[0].exc_string.as_deref().unwrap().contains(text),
            "{:?}",
            results[0].exc_string
        );
        let score = zscore(&store, &keys::failed("fq"), id).await.unwrap();
        assert!((score - (now + 31_536_000.0)).abs() < 5.0);
        // Default failure_ttl: no TTL on the results stream (RQ), one year on the job.
        let rttl: i64 = c.ttl(keys::results(id)).await.unwrap();
        assert_eq!(rttl, -1);
        let ttl: i64 = c.ttl(keys::job(id)).await.unwrap();
        assert!(ttl > 31_500_000);
    }
    let qlen: u64 = c.llen(keys::queue("fq")).await.unwrap();
    assert_eq!(qlen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_requeue_then_schedule_then_fail() {
    let store = support::store().await;
    let mut now_retry = job("rq1", "taskmill.fail", vec![json!("again")]);
    now_retry.retry = Some(Retry {
        max: 1,
        intervals: vec![0],
    });
    let now_id = enqueue(&store, now_retry).await.unwrap();
    let mut later = job("rq1", "taskmill.fail", vec![json!("later")]);
    later.retry = Some(Retry {
        max: 2,
        intervals: vec![60, 120],
    });
    let later_id = enqueue(&store, later).await.unwrap();

    let report = burst(&store, cfg(&["rq1"], 1, true), Handlers::builtin()).await;
    // now_id: fail → requeued → fail (terminal). later_id: fail → scheduled in 60 s.
    assert_eq!((report.failed, report.retried), (1, 2));
    assert_eq!(status(&store, &now_id).await.as_deref(), Some("failed"));
    assert_eq!(
        field(&store, &now_id, "retries_left").await.as_deref(),
        Some("0")
    );
    // Only the terminal failure writes a result entry.
    assert_eq!(raw_results(&store, &now_id).await.len(), 1);

    assert_eq!(
        status(&store, &later_id).await.as_deref(),
        Some("scheduled")
    );
    assert_eq!(
        field(&store, &later_id, "retries_left").await.as_deref(),
        Some("1")
    );
    let score = zscore(&store, &keys::scheduled("rq1"), &later_id)
        .await
        .unwrap();
    assert!((score - (time::now() + 60.0)).abs() < 5.0, "{score}");
    assert!(raw_results(&store, &later_id).await.is_empty());
    assert!(zscore(&store, &keys::failed("rq1"), &later_id)
        .await
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_fail_the_job() {
    let store = support::store().await;
    let mut j = job("tq", "taskmill.sleep", vec![json!(30)]);
    j.timeout = Some(1);
    let id = enqueue(&store, j).await.unwrap();
    let started = std::time::Instant::now();
    let report = burst(&store, cfg(&["tq"], 1, true), Handlers::builtin()).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(report.failed, 1);
    let r = engine::result::fetch(&store, &id).await.unwrap();
    assert!(r[0]
        .exc_string
        .as_deref()
        .unwrap()
        .contains("JobTimeoutException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependents_are_released_like_rq() {
    let store = support::store().await;
    let parent = enqueue(&store, job("dq", "taskmill.echo", vec![json!("p")]))
        .await
        .unwrap();
    let child = enqueue(
        &store,
        job("dq", "taskmill.echo", vec![json!("c")]).depends_on(vec![parent.clone()]),
    )
    .await
    .unwrap();
    let bad = enqueue(&store, job("dq", "taskmill.fail", vec![json!("x")]))
        .await
        .unwrap();
    let mut tolerant = job("dq", "taskmill.echo", vec![]).depends_on(vec![bad.clone()]);
    tolerant.allow_dependency_failures = true;
    let tolerant = enqueue(&store, tolerant).await.unwrap();
    let strict = enqueue(
        &store,
        job("dq", "taskmill.echo", vec![]).depends_on(vec![bad.clone()]),
    )
    .await
    .unwrap();
    assert_eq!(status(&store, &child).await.as_deref(), Some("deferred"));

    let report = burst(&store, cfg(&["dq"], 2, true), Handlers::builtin()).await;
    assert_eq!((report.succeeded, report.failed), (3, 1));
    assert_eq!(status(&store, &child).await.as_deref(), Some("finished"));
    assert_eq!(status(&store, &tolerant).await.as_deref(), Some("finished"));
    assert_eq!(status(&store, &strict).await.as_deref(), Some("deferred"));
    assert!(zscore(&store, &keys::deferred("dq"), &child)
        .await
        .is_none());
    assert!(zscore(&store, &keys::deferred("dq"), &strict)
        .await
        .is_some());
    assert!(!store
        .conn()
        .exists::<_, bool>(keys::dependents(&parent))
        .await
        .unwrap());
    // The strict child is still waiting on the failed parent.
    let left: Vec<String> = store.conn().smembers(keys::dependents(&bad)).await.unwrap();
    assert_eq!(left, vec![strict]);
}

async fn running_worker(store: &Store, id: &str) -> String {
    eventually("job started", 10, || async {
        status(store, id).await.as_deref() == Some("started")
    })
    .await;
    field(store, id, "worker_name").await.unwrap()
}

async fn publish(store: &Store, worker: &str, cmd: Command) -> u64 {
    store
        .conn()
        .publish(keys::pubsub(worker), cmd.to_payload())
        .await
        .unwrap()
}

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
async fn exec_handlers_run_children_and_kill_them_on_timeout() {
    let store = support::store().await;
    let dir = std::env::temp_dir().join(format!("taskmill-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("pid");
    let toml = dir.join("handlers.toml");
    std::fs::write(
        &toml,
        format!(
            r#"
[handlers."x.cat"]
command = ["sh", "-c", "cat"]
[handlers."x.env"]
command = ["sh", "-c", "printf '\"%s\"' \"$GREETING\""]
env = {{ GREETING = "hi" }}
[handlers."x.fail"]
command = ["sh", "-c", "echo 'RuntimeError: child says no' >&2; exit 3"]
[handlers."x.hang"]
command = ["sh", "-c", "sleep 60 & echo $! > {}; wait"]
"#,
            pidfile.display()
        ),
    )
    .unwrap();
    let mut handlers = Handlers::load_exec_toml(&toml).unwrap();
    handlers.extend(Handlers::builtin());
    let cat = enqueue(&store, job("xq", "x.cat", vec![json!(1)]))
        .await
        .unwrap();
    let env = enqueue(&store, job("xq", "x.env", vec![])).await.unwrap();
    let fail = enqueue(&store, job("xq", "x.fail", vec![])).await.unwrap();
    let mut hang = job("xq", "x.hang", vec![]);
    hang.timeout = Some(1);
    let hang = enqueue(&store, hang).await.unwrap();

    let report = burst(&store, cfg(&["xq"], 2, true), handlers).await;
    assert_eq!((report.succeeded, report.failed), (2, 2));
    let r = raw_results(&store, &cat).await;
    assert_eq!(
        unb64(&r[0]["return_value"]),
        r#"{"args": [1], "kwargs": {}}"#
    );
    assert_eq!(
        unb64(&raw_results(&store, &env).await[0]["return_value"]),
        r#""hi""#
    );
    let exc = engine::result::fetch(&store, &fail).await.unwrap()[0]
        .exc_string
        .clone()
        .unwrap();
    assert!(
        exc.contains("RuntimeError: child says no") && exc.contains("exited with status 3"),
        "{exc}"
    );
    let exc = engine::result::fetch(&store, &hang).await.unwrap()[0]
        .exc_string
        .clone()
        .unwrap();
    assert!(exc.contains("JobTimeoutException"), "{exc}");
    // The whole process group was killed: the shell's own child `sleep` too (gone, or a zombie
    // waiting for whoever reaps orphans here).
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eventually("grandchild killed", 5, || async {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit(") ")
                .next()
                .is_some_and(|rest| rest.starts_with('Z')),
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_drops_do_not_lose_jobs() {
    // A private server: this test kills every client connection, which would disturb others.
    let server = support::start_redis();
    let url = format!("redis://127.0.0.1:{}/0", server.port);
    let store = Store::connect(&url).await.unwrap();
    let a = enqueue(&store, job("nq", "taskmill.sleep", vec![json!(1.0)]))
        .await
        .unwrap();
    let (h, shutdown) = start(&store, cfg(&["nq"], 2, false), Handlers::builtin());
    let _ = running_worker(&store, &a).await;
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
    shutdown.graceful.cancel();
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

/// The same jobs run by Python's `rq worker -S json --burst` and by a Taskmill burst pool, each
/// in its own database, leave the same keyspace (worker records aside): same keys, types, TTL
/// presence, hash fields and values (timestamps and worker names redacted), list and set
/// contents, and registry scores relative to now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_state_matches_python_rq_worker() {
    let Some(bin) = crate::enqueue::venv_bin() else {
        return;
    };
    let jobs = || {
        let mut echo = NewJob::new("pq", "pytasks.echo")
            .args(vec![json!(1), json!("x")])
            .id("p-echo");
        echo.kwargs.insert("k".into(), json!(2));
        let child = NewJob::new("pq", "pytasks.add")
            .args(vec![json!(2), json!(3)])
            .id("p-child")
            .depends_on(vec!["p-echo".into()]);
        let fail = NewJob::new("pq", "pytasks.fail")
            .args(vec![json!("boom")])
            .id("p-fail");
        let mut retry = NewJob::new("pq", "pytasks.fail")
            .args(vec![json!("again")])
            .id("p-retry");
        retry.retry = Some(Retry {
            max: 1,
            intervals: vec![0],
        });
        let mut keep = NewJob::new("pq", "pytasks.add")
            .args(vec![json!(1), json!(1)])
            .id("p-keep");
        keep.result_ttl = Some(-1);
        let mut fttl = NewJob::new("pq", "pytasks.fail")
            .args(vec![json!("ttl")])
            .id("p-fttl");
        fttl.failure_ttl = Some(100);
        vec![echo, child, fail, retry, keep, fttl]
    };
    let mut handlers = Handlers::builtin();
    handlers.register("pytasks.echo", |args, kwargs| async move {
        Ok(json!({"args": args, "kwargs": kwargs}))
    });
    handlers.register("pytasks.add", |args, _| async move {
        Ok(json!(args.iter().filter_map(Value::as_i64).sum::<i64>()))
    });
    handlers.register("pytasks.fail", |args, _| async move {
        Err(worker::JobError {
            traceback: format!("RuntimeError: {}", args[0].as_str().unwrap_or_default()),
        })
    });

    let py_url = support::fresh_url();
    let py = Store::connect(&py_url).await.unwrap();
    for j in jobs() {
        enqueue(&py, j).await.unwrap();
    }
    crate::enqueue::rq_worker_burst(&bin, &py_url, "pq");

    let tm = support::store().await;
    for j in jobs() {
        enqueue(&tm, j).await.unwrap();
    }
    let report = burst(&tm, cfg(&["pq"], 1, true), handlers).await;
    assert_eq!((report.succeeded, report.failed, report.retried), (3, 3, 1));

    let (py_state, tm_state) = (comparable(&py).await, comparable(&tm).await);
    for id in ["p-echo", "p-child", "p-fail", "p-retry", "p-keep", "p-fttl"] {
        assert_eq!(
            result_shape(&tm, id).await,
            result_shape(&py, id).await,
            "results of {id}"
        );
    }
    assert_eq!(
        tm_state,
        py_state,
        "\ntaskmill:\n{}\npython:\n{}",
        tm_state.join("\n"),
        py_state.join("\n")
    );
}

/// `enqueue::snapshot` minus worker records, with worker names and scores made comparable.
async fn comparable(store: &Store) -> Vec<String> {
    let now = time::now();
    crate::enqueue::snapshot(store)
        .await
        .into_iter()
        .filter(|l| {
            ![
                "rq:worker",
                "rq:workers",
                "taskmill:",
                "rq:clean_registries",
                "rq:scheduler",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(|l| {
            let (head, body) = l.split_once("] ").unwrap_or((&l, ""));
            let body = if head.contains("[zset") {
                body.split(',')
                    .map(|m| match m.rsplit_once('@') {
                        Some((id, s)) => match s.parse::<f64>() {
                            Ok(s) if s > 1e9 => {
                                format!("{id}@now+{}", ((s - now) / 50.0).round() * 50.0)
                            }
                            _ => m.to_string(),
                        },
                        None => m.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                body.split(" | ")
                    .map(|f| match f.split_once('=') {
                        Some(("worker_name", v)) if !v.is_empty() => "worker_name=<w>".to_string(),
                        _ => f.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            format!("{head}] {body}")
        })
        .collect()
}

/// Each result entry as: type, sorted field names, return value, last traceback line.
async fn result_shape(store: &Store, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in raw_results(store, id).await {
        let mut names: Vec<&String> = e.keys().collect();
        names.sort();
        let rv = e.get("return_value").map(|v| unb64(v)).unwrap_or_default();
        let exc = engine::result::decode_exc_string(
            e.get("exc_string")
                .map(String::as_bytes)
                .unwrap_or_default(),
        );
        let last = engine::result::exc_summary(&exc).unwrap_or_default();
        out.push(format!("{} {names:?} {rv} {last}", e["type"]));
    }
    out
}
