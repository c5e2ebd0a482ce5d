//! Operator actions: state before and after each one, skipped reasons, and a Python-failed job
//! requeued by Taskmill and run again by a real `rq worker`.

use engine::actions::{
    cancel::cancel, delete::delete, empty::empty, enqueue_now::enqueue_now, requeue, scale::scale,
    shutdown, stop::stop, stop::StopOutcome, suspend, JobsOutcome, Skipped,
};
use engine::audit;
use engine::enqueue::{enqueue, enqueue_many, NewJob};
use engine::model::AuditEntry;
use engine::{keys, Error, Store};
use futures::StreamExt;
use redis::AsyncCommands;
use serde_json::json;

use crate::enqueue::{ids, py_job_result, python, rq_worker_burst, snapshot, venv_bin};
use crate::support;

fn skipped(id: &str, reason: &str) -> Skipped {
    Skipped {
        id: id.into(),
        reason: reason.into(),
    }
}

async fn status(store: &Store, id: &str) -> Option<String> {
    store.conn().hget(keys::job(id), "status").await.unwrap()
}

/// Marks a queued job failed the way an RQ worker leaves it: out of the queue, in the failed
/// registry, status failed, timestamps set.
async fn fail(store: &Store, queue: &str, id: &str) {
    let mut conn = store.conn();
    let _: () = conn.lrem(keys::queue(queue), 0, id).await.unwrap();
    let _: () = conn
        .zadd(keys::failed(queue), id, 1_900_000_000)
        .await
        .unwrap();
    let fields = [
        ("status", "failed"),
        ("started_at", "2026-11-21T11:19:06.000000Z"),
        ("ended_at", "2026-11-21T11:19:07.000000Z"),
    ];
    let _: () = conn.hset_multiple(keys::job(id), &fields).await.unwrap();
}

fn job(queue: &str, id: &str) -> NewJob {
    NewJob::new(queue, "m.f").id(id)
}

#[tokio::test]
async fn requeue_moves_failed_jobs_with_their_original_bytes() {
    let store = support::store().await;
    let mut conn = store.conn();
    enqueue_many(
        &store,
        vec![job("rq1", "f1"), job("rq1", "f2"), job("rq1", "q1")],
    )
    .await
    .unwrap();
    fail(&store, "rq1", "f1").await;
    fail(&store, "rq1", "f2").await;
    // Bytes a Python producer wrote (pickle, not even valid for us): moved, never re-encoded.
    let odd: &[u8] = b"\x80\x05\x95odd bytes\x00\xff";
    let _: () = conn.hset(keys::job("f1"), "data", odd).await.unwrap();
    let _: () = conn.expire(keys::job("f1"), 31_536_000).await.unwrap();

    let out = requeue::requeue(&store, &ids(&["f1", "q1", "nope", "bad:id", "f1"]))
        .await
        .unwrap();
    assert_eq!(out.done, ["f1"]);
    assert_eq!(
        out.skipped,
        [
            skipped("bad:id", "invalid_id"),
            skipped("q1", "not_failed"),
            skipped("nope", "not_found")
        ]
    );
    let data: Vec<u8> = conn.hget(keys::job("f1"), "data").await.unwrap();
    assert_eq!(data, odd);
    let fields: Vec<(String, Vec<u8>)> = redis::cmd("HGETALL")
        .arg(keys::job("f1"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let get = |n: &str| {
        fields
            .iter()
            .find(|(f, _)| f == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("status"), b"queued");
    assert_eq!(get("started_at"), b"");
    assert_eq!(get("ended_at"), b"");
    assert_eq!(
        get("exc_info"),
        [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]
    );
    assert!(engine::time::parse_rq(std::str::from_utf8(&get("enqueued_at")).unwrap()).is_some());
    let ttl: i64 = conn.ttl(keys::job("f1")).await.unwrap();
    assert!(
        ttl > 31_000_000,
        "requeue keeps the failed-time TTL, as RQ does"
    );
    let queue: Vec<String> = conn.lrange(keys::queue("rq1"), 0, -1).await.unwrap();
    assert_eq!(queue, ["q1", "f1"]);
    let failed: Vec<String> = conn.zrange(keys::failed("rq1"), 0, -1).await.unwrap();
    assert_eq!(failed, ["f2"]);

    let front = requeue::requeue_with(&store, &ids(&["f2"]), true)
        .await
        .unwrap();
    assert_eq!(front.count(), 1);
    let head: Vec<String> = conn.lrange(keys::queue("rq1"), 0, 0).await.unwrap();
    assert_eq!(head, ["f2"]);
}

#[tokio::test]
async fn requeue_queue_and_all_walk_the_registries_in_windows() {
    let store = support::store().await;
    let mut conn = store.conn();
    let jobs: Vec<NewJob> = (0..2345)
        .map(|i| job(if i % 3 == 0 { "wa" } else { "wb" }, &format!("j{i}")))
        .collect();
    enqueue_many(&store, jobs).await.unwrap();
    for q in ["wa", "wb"] {
        let ids: Vec<String> = conn.lrange(keys::queue(q), 0, -1).await.unwrap();
        let _: () = conn.del(keys::queue(q)).await.unwrap();
        let members: Vec<(i64, &String)> = ids.iter().map(|id| (1_900_000_000, id)).collect();
        let _: () = conn.zadd_multiple(keys::failed(q), &members).await.unwrap();
    }
    // An expired job still listed in the registry is dropped, not counted.
    let _: () = conn.zadd(keys::failed("wa"), "ghost", 1).await.unwrap();

    assert_eq!(requeue::requeue_queue(&store, "wa").await.unwrap(), 782);
    let left: u64 = conn.zcard(keys::failed("wa")).await.unwrap();
    assert_eq!(left, 0);
    let queued: u64 = conn.llen(keys::queue("wa")).await.unwrap();
    assert_eq!(queued, 782);
    assert_eq!(requeue::requeue_all(&store).await.unwrap(), 2345 - 782);
    let queued: u64 = conn.llen(keys::queue("wb")).await.unwrap();
    assert_eq!(queued, 2345 - 782);
    assert_eq!(status(&store, "j1").await.as_deref(), Some("queued"));
    // A member of rq:queues that is not UTF-8 (written by something else) is skipped: it made
    // requeue-all fail with a 500 once (found by schemathesis over the hostile corpus).
    let _: () = conn
        .sadd(keys::QUEUES, &b"rq:queue:\xffbad"[..])
        .await
        .unwrap();
    assert_eq!(requeue::requeue_all(&store).await.unwrap(), 0);
}

#[tokio::test]
async fn cancel_only_jobs_that_have_not_started() {
    let store = support::store().await;
    let mut conn = store.conn();
    enqueue(&store, job("cq", "queued1")).await.unwrap();
    enqueue(&store, job("cq", "parent")).await.unwrap();
    enqueue(&store, job("cq", "child").depends_on(ids(&["parent"])))
        .await
        .unwrap();
    let mut s = job("cq", "sched");
    s.schedule_at = Some(1_900_000_000.0);
    enqueue(&store, s).await.unwrap();
    enqueue(&store, job("cq", "failed1")).await.unwrap();
    fail(&store, "cq", "failed1").await;
    let _: () = conn
        .hset(keys::job("running"), "status", "started")
        .await
        .unwrap();

    let out = cancel(
        &store,
        &ids(&["queued1", "child", "sched", "failed1", "running", "nope"]),
    )
    .await
    .unwrap();
    assert_eq!(out.done, ["queued1", "child", "sched"]);
    assert_eq!(
        out.skipped,
        [
            skipped("failed1", "wrong_state"),
            skipped("running", "wrong_state"),
            skipped("nope", "not_found")
        ]
    );
    for id in ["queued1", "child", "sched"] {
        assert_eq!(status(&store, id).await.as_deref(), Some("canceled"));
    }
    let queue: Vec<String> = conn.lrange(keys::queue("cq"), 0, -1).await.unwrap();
    assert_eq!(queue, ["parent"]);
    let deferred: u64 = conn.zcard(keys::deferred("cq")).await.unwrap();
    let scheduled: u64 = conn.zcard(keys::scheduled("cq")).await.unwrap();
    assert_eq!((deferred, scheduled), (0, 0));
    let mut canceled: Vec<String> = conn.zrange(keys::canceled("cq"), 0, -1).await.unwrap();
    canceled.sort();
    assert_eq!(canceled, ["child", "queued1", "sched"]);
    let again = cancel(&store, &ids(&["queued1"])).await.unwrap();
    assert_eq!(
        again,
        JobsOutcome {
            done: vec![],
            skipped: vec![skipped("queued1", "wrong_state")]
        }
    );
}

#[tokio::test]
async fn enqueue_now_releases_scheduled_deferred_and_canceled_jobs() {
    let store = support::store().await;
    let mut conn = store.conn();
    enqueue(&store, job("nq", "parent")).await.unwrap();
    enqueue(&store, job("nq", "child").depends_on(ids(&["parent"])))
        .await
        .unwrap();
    let mut s = job("nq", "sched");
    s.schedule_at = Some(1_900_000_000.0);
    s.at_front = true;
    enqueue(&store, s).await.unwrap();
    enqueue(&store, job("nq", "gone")).await.unwrap();
    cancel(&store, &ids(&["gone"])).await.unwrap();

    let out = enqueue_now(&store, &ids(&["child", "sched", "gone", "parent", "nope"]))
        .await
        .unwrap();
    assert_eq!(out.done, ["child", "sched", "gone"]);
    assert_eq!(
        out.skipped,
        [
            skipped("parent", "wrong_state"),
            skipped("nope", "not_found")
        ]
    );
    let queue: Vec<String> = conn.lrange(keys::queue("nq"), 0, -1).await.unwrap();
    assert_eq!(
        queue,
        ["sched", "parent", "child", "gone"],
        "enqueue_at_front honoured"
    );
    for id in ["child", "sched", "gone"] {
        assert_eq!(status(&store, id).await.as_deref(), Some("queued"));
        let at: Option<String> = conn.hget(keys::job(id), "enqueued_at").await.unwrap();
        assert!(at.is_some(), "{id}");
    }
    let dependents: Vec<String> = conn.smembers(keys::dependents("parent")).await.unwrap();
    assert!(
        dependents.is_empty(),
        "a parent finishing later must not push the child twice"
    );
    for reg in [
        keys::deferred("nq"),
        keys::scheduled("nq"),
        keys::canceled("nq"),
    ] {
        let n: u64 = conn.zcard(&reg).await.unwrap();
        assert_eq!(n, 0, "{reg}");
    }
}

#[tokio::test]
async fn delete_removes_every_trace_of_a_job() {
    let store = support::store().await;
    let mut conn = store.conn();
    enqueue(&store, job("xq", "keep")).await.unwrap();
    let before = snapshot(&store).await;
    enqueue(&store, job("xq", "parent")).await.unwrap();
    enqueue(&store, job("xq", "child").depends_on(ids(&["parent"])))
        .await
        .unwrap();
    // A running job as an RQ 2.x worker records it: started member, execution, results stream.
    enqueue(&store, job("xq", "run")).await.unwrap();
    let _: () = conn.lrem(keys::queue("xq"), 0, "run").await.unwrap();
    let _: () = conn
        .hset_multiple(
            keys::job("run"),
            &[("status", "started"), ("group_id", "g1")],
        )
        .await
        .unwrap();
    let _: () = conn
        .zadd(
            keys::started("xq"),
            keys::started_member("run", "x1"),
            1_900_000_000,
        )
        .await
        .unwrap();
    let _: () = conn
        .zadd(keys::executions("run"), "x1", 1_900_000_000)
        .await
        .unwrap();
    let _: () = conn
        .hset(keys::execution("run", "x1"), "id", "x1")
        .await
        .unwrap();
    let _: () = conn
        .xadd(keys::results("run"), "*", &[("type", "2")])
        .await
        .unwrap();
    let _: () = conn.sadd(keys::group("g1"), "run").await.unwrap();

    let out = delete(&store, &ids(&["child", "run", "parent", "nope"]))
        .await
        .unwrap();
    assert_eq!(out.done, ["child", "run", "parent"]);
    assert_eq!(out.skipped, [skipped("nope", "not_found")]);
    // rq:queues stays (queues are never removed on delete, as in RQ).
    assert_eq!(snapshot(&store).await, before);
}

#[tokio::test]
async fn empty_deletes_queued_jobs_only() {
    let store = support::store().await;
    let mut conn = store.conn();
    let jobs: Vec<NewJob> = (0..2100).map(|i| job("eq", &format!("e{i}"))).collect();
    enqueue_many(&store, jobs).await.unwrap();
    enqueue(&store, job("eq", "f")).await.unwrap();
    fail(&store, "eq", "f").await;
    assert_eq!(empty(&store, "eq").await.unwrap(), 2100);
    let len: u64 = conn.llen(keys::queue("eq")).await.unwrap();
    assert_eq!(len, 0);
    let exists: bool = conn.exists(keys::job("e5")).await.unwrap();
    assert!(!exists);
    assert_eq!(status(&store, "f").await.as_deref(), Some("failed"));
    let member: bool = conn
        .sismember(keys::QUEUES, keys::queue("eq"))
        .await
        .unwrap();
    assert!(member, "the queue stays known, as with RQ");
    assert_eq!(empty(&store, "eq").await.unwrap(), 0);
    assert!(empty(&store, "").await.is_err());
}

#[tokio::test]
async fn stop_publishes_to_the_worker_running_the_job() {
    let store = support::store().await;
    let mut conn = store.conn();
    let mut sub = store.client().get_async_pubsub().await.unwrap();
    sub.subscribe(keys::pubsub("w1")).await.unwrap();
    let _: () = conn
        .hset_multiple(
            keys::job("r"),
            &[("status", "started"), ("worker_name", "w1")],
        )
        .await
        .unwrap();
    enqueue(&store, job("sq", "waiting")).await.unwrap();

    assert_eq!(
        stop(&store, "r").await.unwrap(),
        StopOutcome::Sent {
            worker: "w1".into(),
            receivers: 1
        }
    );
    let msg = sub.on_message().next().await.unwrap();
    assert_eq!(
        msg.get_payload::<String>().unwrap(),
        r#"{"command": "stop-job", "job_id": "r"}"#
    );
    assert_eq!(
        stop(&store, "waiting").await.unwrap(),
        StopOutcome::NotRunning {
            status: "queued".into()
        }
    );
    assert_eq!(stop(&store, "nope").await.unwrap(), StopOutcome::NotFound);
    assert!(matches!(
        stop(&store, "a:b").await,
        Err(Error::InvalidJobId(_))
    ));
}

#[tokio::test]
async fn worker_commands_and_suspension() {
    let store = support::store().await;
    let mut conn = store.conn();
    let mut sub = store.client().get_async_pubsub().await.unwrap();
    sub.subscribe(keys::pubsub("pool.1")).await.unwrap();
    assert_eq!(shutdown::shutdown(&store, "pool.1").await.unwrap(), 1);
    assert_eq!(shutdown::kill_horse(&store, "pool.1").await.unwrap(), 1);
    assert_eq!(scale(&store, "pool.1", 4).await.unwrap(), 1);
    assert_eq!(shutdown::shutdown(&store, "nobody").await.unwrap(), 0);
    let mut stream = sub.on_message();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(
            stream
                .next()
                .await
                .unwrap()
                .get_payload::<String>()
                .unwrap(),
        );
    }
    assert_eq!(
        got,
        [
            r#"{"command": "shutdown"}"#,
            r#"{"command": "kill-horse"}"#,
            r#"{"command": "scale", "slots": 4}"#
        ]
    );
    assert!(matches!(
        scale(&store, "pool.1", 0).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        scale(&store, "pool.1", 257).await,
        Err(Error::Invalid(_))
    ));
    assert!(shutdown::shutdown(&store, "").await.is_err());

    suspend::suspend(&store, None).await.unwrap();
    let (v, ttl): (String, i64) = redis::pipe()
        .get(keys::SUSPENDED)
        .ttl(keys::SUSPENDED)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!((v.as_str(), ttl), ("1", -1));
    suspend::suspend(&store, Some(30)).await.unwrap();
    let ttl: i64 = conn.ttl(keys::SUSPENDED).await.unwrap();
    assert!((1..=30).contains(&ttl));
    assert!(suspend::suspend(&store, Some(0)).await.is_err());
    suspend::resume(&store).await.unwrap();
    let exists: bool = conn.exists(keys::SUSPENDED).await.unwrap();
    assert!(!exists);
}

#[tokio::test]
async fn audit_log_is_capped_and_newest_first() {
    let store = support::store().await;
    let entry = |i: u64| AuditEntry {
        at: i as f64,
        who: "ops".into(),
        action: "requeue".into(),
        target: format!("job {i}"),
        count: i,
    };
    for i in 0..(audit::CAP as u64 + 5) {
        audit::record(&store, &entry(i)).await.unwrap();
    }
    let page = audit::page(&store, 0, 3).await.unwrap();
    assert_eq!(page.total, audit::CAP as u64);
    let last = audit::CAP as u64 + 4;
    assert_eq!(page.items, [entry(last), entry(last - 1), entry(last - 2)]);
    let tail = audit::page(&store, audit::CAP as u64 - 1, 10)
        .await
        .unwrap();
    assert_eq!(tail.items, [entry(5)]);
    let _: () = store.conn().lpush(keys::AUDIT, "not json").await.unwrap();
    let top = audit::page(&store, 0, 1).await.unwrap();
    assert_eq!(
        (top.items[0].action.as_str(), top.items[0].target.as_str()),
        ("unreadable", "not json")
    );
    assert_eq!(
        audit::page(&store, 0, 1_000_000).await.unwrap().limit,
        audit::MAX_PAGE
    );
}

#[tokio::test]
async fn python_failure_requeued_by_taskmill_runs_again() {
    let Some(bin) = venv_bin() else { return };
    let store = support::store().await;
    let marker =
        std::env::temp_dir().join(format!("taskmill-fail-once-{}", engine::enqueue::uuid4()));
    let job =
        NewJob::new("interop-r", "pytasks.fail_once").args(vec![json!(marker.to_str().unwrap())]);
    let id = enqueue(&store, job).await.unwrap();
    rq_worker_burst(&bin, store.url(), "interop-r");
    let (st, _) = py_job_result(&bin, store.url(), &id);
    assert_eq!(st, "failed");

    let mut conn = store.conn();
    let before: Vec<u8> = conn.hget(keys::job(&id), "data").await.unwrap();
    let out = requeue::requeue(&store, std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(out.done, std::slice::from_ref(&id));
    let after: Vec<u8> = conn.hget(keys::job(&id), "data").await.unwrap();
    assert_eq!(before, after);

    rq_worker_burst(&bin, store.url(), "interop-r");
    assert_eq!(
        py_job_result(&bin, store.url(), &id),
        ("finished".into(), json!("ok after failure"))
    );
    // Python sees both attempts in the results stream.
    let code = "import sys\nfrom redis import Redis\nfrom rq.job import Job\nfrom rq.serializers import JSONSerializer\n\
        j = Job.fetch(sys.argv[2], connection=Redis.from_url(sys.argv[1]), serializer=JSONSerializer)\n\
        print(','.join(r.type.name for r in j.results()))";
    assert_eq!(
        python(&bin, code, &[store.url(), &id]).trim(),
        "SUCCESSFUL,FAILED"
    );
    let _ = std::fs::remove_file(marker);
}
