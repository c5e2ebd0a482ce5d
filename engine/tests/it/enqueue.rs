//! Producing jobs: the keyspace `enqueue` writes is compared with what Python RQ 2.12 itself
//! writes for the same calls (both snapshotted, timestamps redacted), then jobs are executed by a
//! real `rq worker -S json`.
//! Also hosts the keyspace snapshot and Python helpers the `actions` tests share.

use std::path::{Path, PathBuf};

use engine::enqueue::{enqueue, enqueue_many, NewJob, Retry};
use engine::{keys, Error, Store};
use redis::AsyncCommands;
use serde_json::{json, Map, Value};

use crate::support;

// ---- shared helpers ---------------------------------------------------------------------------

pub use crate::support::repo_root;

/// The venv's `bin` directory (the interpreter's, see `support::python`), or `None` to skip.
pub fn venv_bin() -> Option<PathBuf> {
    let py = support::python()?;
    Some(py.parent().expect("interpreter in a bin dir").to_path_buf())
}

/// Runs Python code (`sys.argv[1:]` = `args`) with the venv in `tests/interop`; returns stdout.
pub fn python(bin: &Path, code: &str, args: &[&str]) -> String {
    let argv: Vec<&str> = ["-c", code]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    support::run_python(&bin.join("python"), &argv)
}

/// `rq worker -S json --burst --path tests/interop --url <url> <queue>`.
pub fn rq_worker_burst(bin: &Path, url: &str, queue: &str) {
    let interop = repo_root().join("tests/interop");
    let path = interop.to_str().expect("a UTF-8 repository path");
    let args = [
        "worker", "-S", "json", "--burst", "--path", path, "--url", url, queue,
    ];
    support::run_python(&bin.join("rq"), &args);
}

/// `Job.fetch(id, serializer=JSONSerializer)`: status and `return_value()` as JSON.
pub fn py_job_result(bin: &Path, url: &str, id: &str) -> (String, Value) {
    let code = "import sys, json\nfrom redis import Redis\nfrom rq.job import Job\n\
        from rq.serializers import JSONSerializer\n\
        j = Job.fetch(sys.argv[2], connection=Redis.from_url(sys.argv[1]), serializer=JSONSerializer)\n\
        print(json.dumps([j.get_status(), j.return_value()]))";
    let out = python(bin, code, &[url, id]);
    let v: Value = serde_json::from_str(out.trim()).expect("python printed JSON");
    (v[0].as_str().unwrap_or_default().to_string(), v[1].clone())
}

/// The whole keyspace as sorted text lines: key, TYPE, has-TTL, and contents (hash fields in
/// stored order, lists in order, sets sorted, zsets with scores). Timestamps become `<ts>`,
/// scores within a minute of now `<now>`, `data`/`exc_info` are inflated.
pub async fn snapshot(store: &Store) -> Vec<String> {
    let mut conn = store.conn();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    let now = engine::time::now();
    let mut lines = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let ttl: i64 = conn.ttl(&key).await.unwrap();
        let ttl = if ttl > 0 { " ttl" } else { "" };
        let body = match kind.as_str() {
            "hash" => {
                let pairs: Vec<(String, Vec<u8>)> = conn.hgetall(&key).await.unwrap();
                pairs
                    .into_iter()
                    .map(|(f, v)| format!("{f}={}", redact_field(&f, &v)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            }
            "list" => {
                let v: Vec<String> = conn.lrange(&key, 0, -1).await.unwrap();
                v.join(",")
            }
            "set" => {
                let mut v: Vec<String> = conn.smembers(&key).await.unwrap();
                v.sort();
                v.join(",")
            }
            "zset" => {
                let v: Vec<(String, f64)> = conn.zrange_withscores(&key, 0, -1).await.unwrap();
                v.into_iter()
                    .map(|(m, s)| {
                        let s = if (s - now).abs() < 60.0 {
                            "<now>".into()
                        } else {
                            s.to_string()
                        };
                        format!("{m}@{s}")
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            }
            "string" => conn.get::<_, String>(&key).await.unwrap(),
            other => other.to_string(),
        };
        lines.push(format!("{key} [{kind}{ttl}] {body}"));
    }
    lines
}

fn redact_field(field: &str, v: &[u8]) -> String {
    if matches!(field, "data" | "exc_info") {
        let raw = engine::codec::zlib::inflate_bounded(v, 1 << 20)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|_| "<not zlib>".into());
        return format!("zlib({raw})");
    }
    let text = String::from_utf8_lossy(v);
    if engine::time::parse_rq(&text).is_some() {
        "<ts>".into()
    } else {
        text.into_owned()
    }
}

pub fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn kw(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

// ---- enqueue ------------------------------------------------------------------------------------

#[tokio::test]
async fn plain_enqueue_writes_exactly_rq_fields() {
    let store = support::store().await;
    let job = NewJob::new("tq", "exptasks.add")
        .args(vec![json!(1), json!(2)])
        .id("t-plain");
    assert_eq!(enqueue(&store, job).await.unwrap(), "t-plain");
    let fields =
        "status=queued | created_at=<ts> | data=zlib([\"exptasks.add\", null, [1, 2], {}]) \
        | success_callback_name= | failure_callback_name= | stopped_callback_name= | started_at= \
        | ended_at= | last_heartbeat= | worker_name= | group_id= | origin=tq \
        | description=exptasks.add(1, 2) | enqueued_at=<ts> | timeout=180";
    assert_eq!(
        snapshot(&store).await,
        [
            format!("rq:job:t-plain [hash] {fields}"),
            "rq:queue:tq [list] t-plain".into(),
            "rq:queues [set] rq:queue:tq".into(),
        ]
    );
}

/// The Python half of `same_keyspace_as_python_rq`: the same jobs through RQ's own API.
const PY_ENQUEUE: &str = r#"
import sys, datetime
from redis import Redis
from rq import Queue, Retry
from rq.job import Dependency
from rq.serializers import JSONSerializer
r = Redis.from_url(sys.argv[1])
r.hset('rq:job:t-done', mapping={'status': 'finished', 'origin': 'tq', 'data': '["m.f", null, [], {}]'})
q = Queue('tq', connection=r, serializer=JSONSerializer)
q.enqueue('exptasks.add', 1, 2, job_id='t-plain')
q.enqueue('exptasks.add', 1, 2, job_id='t-front', at_front=True)
q.enqueue('exptasks.echo', 'x', [1.5, None], a={'z': 'é'}, k=True, job_id='t-kw',
          meta={'who': 'me'}, result_ttl=60, failure_ttl=120, ttl=300, job_timeout=-1)
q.enqueue('exptasks.boom', 'x' * 100, job_id='t-retry', retry=Retry(max=2, interval=[10, 20]))
q.enqueue('exptasks.boom', 'y', job_id='t-retry0', retry=Retry(max=1))
q.enqueue('exptasks.add', 3, 3, job_id='t-child', depends_on=['t-plain'], ttl=50)
q.enqueue('exptasks.add', 3, 4, job_id='t-child2',
          depends_on=Dependency(jobs=['t-plain', 't-missing'], allow_failure=True))
q.enqueue('exptasks.add', 3, 5, job_id='t-after-done', depends_on=['t-done', 't-gone'])
at = datetime.datetime.fromtimestamp(2000000000, datetime.timezone.utc)
q.enqueue_at(at, 'exptasks.add', 5, 5, job_id='t-sched')
q.enqueue_at(at, 'exptasks.add', 5, 6, job_id='t-sched-front', at_front=True)
Queue('other', connection=r, serializer=JSONSerializer).enqueue(
    'exptasks.add', 1, 1, job_id='t-desc', description='custom')
"#;

fn taskmill_jobs() -> Vec<NewJob> {
    let add = |a: i64, b: i64, id: &str| {
        NewJob::new("tq", "exptasks.add")
            .args(vec![json!(a), json!(b)])
            .id(id)
    };
    let mut front = add(1, 2, "t-front");
    front.at_front = true;
    let mut kwj = NewJob::new("tq", "exptasks.echo")
        .args(vec![json!("x"), json!([1.5, null])])
        .kwargs(kw(json!({"a": {"z": "é"}, "k": true})))
        .id("t-kw");
    kwj.meta = Some(kw(json!({"who": "me"})));
    (kwj.result_ttl, kwj.failure_ttl, kwj.ttl, kwj.timeout) =
        (Some(60), Some(120), Some(300), Some(-1));
    let mut retry = NewJob::new("tq", "exptasks.boom")
        .args(vec![json!("x".repeat(100))])
        .id("t-retry");
    retry.retry = Some(Retry {
        max: 2,
        intervals: vec![10, 20],
    });
    let mut retry0 = NewJob::new("tq", "exptasks.boom")
        .args(vec![json!("y")])
        .id("t-retry0");
    retry0.retry = Some(Retry {
        max: 1,
        intervals: vec![],
    });
    let mut child = add(3, 3, "t-child").depends_on(ids(&["t-plain"]));
    child.ttl = Some(50);
    let mut child2 = add(3, 4, "t-child2").depends_on(ids(&["t-plain", "t-missing"]));
    child2.allow_dependency_failures = true;
    let after = add(3, 5, "t-after-done").depends_on(ids(&["t-done", "t-gone"]));
    let mut sched = add(5, 5, "t-sched");
    sched.schedule_at = Some(2_000_000_000.0);
    let mut sched_front = add(5, 6, "t-sched-front");
    sched_front.schedule_at = Some(2_000_000_000.0);
    sched_front.at_front = true;
    let mut desc = NewJob::new("other", "exptasks.add")
        .args(vec![json!(1), json!(1)])
        .id("t-desc");
    desc.description = Some("custom".into());
    vec![
        add(1, 2, "t-plain"),
        front,
        kwj,
        retry,
        retry0,
        child,
        child2,
        after,
        sched,
        sched_front,
        desc,
    ]
}

#[tokio::test]
async fn same_keyspace_as_python_rq() {
    let Some(bin) = venv_bin() else { return };
    let py_store = support::store().await;
    python(&bin, PY_ENQUEUE, &[py_store.url()]);

    let store = support::store().await;
    let done = [
        ("status", "finished"),
        ("origin", "tq"),
        ("data", r#"["m.f", null, [], {}]"#),
    ];
    let _: () = store
        .conn()
        .hset_multiple(keys::job("t-done"), &done)
        .await
        .unwrap();
    for job in taskmill_jobs() {
        enqueue(&store, job).await.unwrap();
    }
    let (ours, theirs) = (snapshot(&store).await, snapshot(&py_store).await);
    for (a, b) in ours.iter().zip(theirs.iter()) {
        assert_eq!(a, b, "\ntaskmill: {a}\npython rq: {b}");
    }
    assert_eq!(
        ours.len(),
        theirs.len(),
        "\ntaskmill: {ours:#?}\npython rq: {theirs:#?}"
    );
    assert_eq!(
        ours.len(),
        21,
        "12 hashes, 4 dependency sets, 2 registries, 2 queues, rq:queues"
    );

    // The batch path (templates in enqueue_many.lua) writes the same keyspace.
    let batch = support::store().await;
    let _: () = batch
        .conn()
        .hset_multiple(keys::job("t-done"), &done)
        .await
        .unwrap();
    enqueue_many(&batch, taskmill_jobs()).await.unwrap();
    assert_eq!(snapshot(&batch).await, theirs);
    // Spot checks so a shared mistake in the snapshot code cannot hide everything.
    let status: String = store
        .conn()
        .hget(keys::job("t-child"), "status")
        .await
        .unwrap();
    assert_eq!(status, "deferred");
    let status: String = store
        .conn()
        .hget(keys::job("t-after-done"), "status")
        .await
        .unwrap();
    assert_eq!(status, "queued");
}

#[tokio::test]
async fn ids_are_validated_and_never_overwritten() {
    let store = support::store().await;
    for bad in ["a:b", "", "sp ace", "é", &"x".repeat(129)] {
        let job = NewJob::new("q", "m.f").id(bad);
        assert!(
            matches!(enqueue(&store, job).await, Err(Error::InvalidJobId(_))),
            "{bad:?}"
        );
    }
    let id = enqueue(&store, NewJob::new("q", "m.f")).await.unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id.as_bytes()[14], b'4');
    let again = NewJob::new("q", "m.g").id(id.clone());
    assert!(matches!(enqueue(&store, again).await, Err(Error::DuplicateJob(d)) if d == id));
    let len: u64 = store.conn().llen(keys::queue("q")).await.unwrap();
    assert_eq!(len, 1);
    let dep = NewJob::new("q", "m.f").depends_on(ids(&["bad:id"]));
    assert!(enqueue(&store, dep).await.is_err());
    assert_eq!(
        snapshot(&store).await.len(),
        3,
        "a refused job must write nothing"
    );
}

#[tokio::test]
async fn enqueue_many_is_one_ordered_batch() {
    let store = support::store().await;
    let mut jobs: Vec<NewJob> = (0..2500)
        .map(|i| NewJob::new("bulk", "m.f").args(vec![json!(i)]))
        .collect();
    jobs[7].at_front = true;
    jobs[8].id = Some("custom-8".into());
    jobs.push(
        NewJob::new("bulk", "m.after")
            .depends_on(ids(&["custom-8"]))
            .id("dep"),
    );
    let ids = enqueue_many(&store, jobs).await.unwrap();
    assert_eq!(ids.len(), 2501);
    assert_eq!(ids[8], "custom-8");
    assert_eq!(ids[2500], "dep");
    let queue: Vec<String> = store
        .conn()
        .lrange(keys::queue("bulk"), 0, -1)
        .await
        .unwrap();
    assert_eq!(queue.len(), 2500);
    assert_eq!(queue[0], ids[7], "at_front job first");
    assert_eq!(queue[1..8], ids[..7]);
    assert_eq!(queue[2499], ids[2499]);
    let status: String = store.conn().hget(keys::job("dep"), "status").await.unwrap();
    assert_eq!(status, "deferred");
    let desc: String = store
        .conn()
        .hget(keys::job(&ids[42]), "description")
        .await
        .unwrap();
    assert_eq!(desc, "m.f(42)");

    // A taken id fails its whole batch; nothing of that batch is written.
    let batch = vec![
        NewJob::new("bulk2", "m.f"),
        NewJob::new("bulk2", "m.f").id("custom-8"),
    ];
    assert!(
        matches!(enqueue_many(&store, batch).await, Err(Error::DuplicateJob(d)) if d == "custom-8")
    );
    let len: u64 = store.conn().llen(keys::queue("bulk2")).await.unwrap();
    assert_eq!(len, 0);
    // A bad special job refuses the whole call before the plain batch is written.
    let bad_dep = NewJob::new("bulk3", "m.f").depends_on(vec!["a:b".into()]);
    let bad = vec![NewJob::new("bulk3", "m.f"), bad_dep];
    assert!(matches!(
        enqueue_many(&store, bad).await,
        Err(Error::InvalidJobId(_))
    ));
    let len: u64 = store.conn().llen(keys::queue("bulk3")).await.unwrap();
    assert_eq!(len, 0);
    let twice = vec![
        NewJob::new("b", "m.f").id("x"),
        NewJob::new("b", "m.f").id("x"),
    ];
    assert!(matches!(
        enqueue_many(&store, twice).await,
        Err(Error::DuplicateJob(_))
    ));
}

#[tokio::test]
async fn deferred_child_follows_parent_state() {
    let store = support::store().await;
    let mut conn = store.conn();
    for (parent, status, want) in [
        ("p-finished", Some("finished"), "queued"),
        ("p-failed", Some("failed"), "deferred"),
        ("p-started", Some("started"), "deferred"),
        ("p-missing", None, "queued"),
    ] {
        if let Some(s) = status {
            let _: () = conn.hset(keys::job(parent), "status", s).await.unwrap();
        }
        let child = format!("c-{parent}");
        let job = NewJob::new("dq", "m.f")
            .id(child.clone())
            .depends_on(ids(&[parent]));
        enqueue(&store, job).await.unwrap();
        let got: String = conn.hget(keys::job(&child), "status").await.unwrap();
        assert_eq!(got, want, "{parent}");
        let registered: bool = conn
            .sismember(keys::dependents(parent), &child)
            .await
            .unwrap();
        assert_eq!(registered, want == "deferred", "{parent}");
        let deferred: Option<f64> = conn.zscore(keys::deferred("dq"), &child).await.unwrap();
        assert_eq!(deferred.is_some(), want == "deferred");
        let enqueued: Option<String> = conn.hget(keys::job(&child), "enqueued_at").await.unwrap();
        assert_eq!(enqueued.is_some(), want == "queued");
    }
    let deps: Vec<String> = conn
        .smembers(keys::dependencies("c-p-failed"))
        .await
        .unwrap();
    assert_eq!(deps, ["p-failed"]);
    let queue: Vec<String> = conn.lrange(keys::queue("dq"), 0, -1).await.unwrap();
    assert_eq!(queue, ["c-p-finished", "c-p-missing"]);
}

#[tokio::test]
async fn scheduled_job_waits_in_the_registry() {
    let store = support::store().await;
    let mut job = NewJob::new("sq", "m.f").id("s1");
    job.schedule_at = Some(1_900_000_000.7);
    enqueue(&store, job).await.unwrap();
    let mut conn = store.conn();
    let score: f64 = conn.zscore(keys::scheduled("sq"), "s1").await.unwrap();
    assert_eq!(score, 1_900_000_000.0);
    let (status, enqueued): (String, Option<String>) = redis::cmd("HMGET")
        .arg(keys::job("s1"))
        .arg("status")
        .arg("enqueued_at")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!((status.as_str(), enqueued), ("scheduled", None));
    let len: u64 = conn.llen(keys::queue("sq")).await.unwrap();
    assert_eq!(len, 0);
    let both = NewJob {
        schedule_at: Some(1.0),
        ..NewJob::new("sq", "m.f").depends_on(ids(&["s1"]))
    };
    assert!(matches!(
        enqueue(&store, both).await,
        Err(Error::Invalid(_))
    ));
}

#[tokio::test]
async fn python_worker_runs_taskmill_jobs() {
    let Some(bin) = venv_bin() else { return };
    let store = support::store().await;
    let add = NewJob::new("interop-w", "pytasks.add").args(vec![json!(2), json!(3)]);
    let echo = NewJob::new("interop-w", "pytasks.echo")
        .args(vec![json!("é😀"), json!(1.5)])
        .kwargs(kw(json!({"flag": true, "n": null})));
    let ids = enqueue_many(&store, vec![add, echo]).await.unwrap();
    rq_worker_burst(&bin, store.url(), "interop-w");
    assert_eq!(
        py_job_result(&bin, store.url(), &ids[0]),
        ("finished".into(), json!(5))
    );
    let expect = json!({"args": ["é😀", 1.5], "kwargs": {"flag": true, "n": null}});
    assert_eq!(
        py_job_result(&bin, store.url(), &ids[1]),
        ("finished".into(), expect)
    );
}
