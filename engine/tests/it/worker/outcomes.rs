//! How one job ends: result entries, registries and TTLs for success, failure, retry, timeout,
//! dependents, and exec handlers.

use std::collections::HashMap;
use std::time::Duration;

use engine::enqueue::{enqueue, Retry};
use engine::model::ResultType;
use engine::worker::Handlers;
use engine::{keys, time};
use redis::AsyncCommands;
use serde_json::json;

use super::*;
use crate::support;

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

/// A panicking handler fails only its job; one slot running several jobs (each claimed as the
/// previous one finishes) keeps RQ's counters exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_fail_one_job_and_slot_counters_add_up() {
    let store = support::store().await;
    let mut handlers = Handlers::builtin();
    handlers.register("t.panic", |_, _| async move {
        if true {
            panic!("boom");
        }
        Ok(json!(null))
    });
    let mut ids = Vec::new();
    for f in ["taskmill.echo", "t.panic", "taskmill.echo", "taskmill.fail"] {
        ids.push(
            enqueue(&store, job("pq2", f, vec![json!(1)]))
                .await
                .unwrap(),
        );
    }
    let report = burst(&store, cfg(&["pq2"], 1, true), handlers).await;
    assert_eq!((report.succeeded, report.failed, report.lost), (2, 2, 0));
    assert_eq!(status(&store, &ids[1]).await.as_deref(), Some("failed"));
    let exc = engine::result::fetch(&store, &ids[1]).await.unwrap()[0]
        .exc_string
        .clone();
    assert_eq!(exc.as_deref(), Some("taskmill: handler 't.panic' panicked"));
    let w: HashMap<String, String> = store
        .conn()
        .hgetall(keys::worker(&format!("{}.0", report.pool_id)))
        .await
        .unwrap();
    assert_eq!(w["successful_job_count"], "2");
    assert_eq!(w["failed_job_count"], "2");
    let total: f64 = w["total_working_time"].parse().unwrap();
    assert!((0.0..5.0).contains(&total), "total_working_time {total}");
    assert!(!w.contains_key("current_job"));
}
