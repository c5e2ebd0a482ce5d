//! Chords end to end: the callback runs exactly once when a member's worker is SIGKILLed
//! mid-group (real processes), policies `fail` and `always`, members run by Python `rq worker`
//! (completed by the tick), and the API (`POST /api/v1/groups`, unknown ids → 400,
//! `GET /api/v1/groups/{name}`, the `/groups/{name}` page).

use std::time::{Duration, Instant};

use engine::chord::{self, NewChord, Policy};
use engine::enqueue::{enqueue, NewJob, Retry};
use engine::{keys, Store};
use redis::AsyncCommands;
use serde_json::{json, Value};

use crate::chaos::Spawned;
use crate::redis::start_redis;
use crate::support::{ctx, get, post, send};

/// How many results the callback job's stream holds (one per run).
async fn callback_runs(store: &Store, id: &str) -> u64 {
    store.conn().xlen(keys::results(id)).await.unwrap()
}

/// The callback's first argument (the chord summary), decoded from its `data`.
async fn summary(store: &Store, id: &str) -> Value {
    let data: Vec<u8> = store.conn().hget(keys::job(id), "data").await.unwrap();
    let raw = engine::codec::zlib::inflate_or_raw(&data, 1 << 24).unwrap();
    let call: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(call[0], "taskmill.echo", "{call}");
    call[2][0].clone()
}

async fn chord_status(store: &Store, name: &str) -> String {
    chord::get(store, name)
        .await
        .unwrap()
        .map(|c| c.status)
        .unwrap_or_default()
}

async fn wait_status(store: &Store, name: &str, want: &str, secs: u64, logs: &dyn Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let st = chord_status(store, name).await;
        if st == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "chord {name} is {st}, not {want}\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_job(store: &Store, id: &str, want: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let st: Option<String> = store.conn().hget(keys::job(id), "status").await.unwrap();
        if st.as_deref() == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "job {id} is {st:?}, not {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_runs_once_when_a_members_worker_is_sigkilled() {
    let server = start_redis();
    let url = format!("redis://127.0.0.1:{}", server.port);
    let store = Store::connect(&url).await.unwrap();
    let flags = [
        "worker",
        "--queues",
        "ch",
        "--concurrency",
        "3",
        "--lease",
        "3",
        "--heartbeat",
        "1",
        "--reap-interval",
        "1",
    ];
    let mut a = Spawned::start(&url, &flags);
    let mut b = Spawned::start(&url, &flags);
    let members: Vec<NewJob> = (0..6)
        .map(|_| {
            let mut j = NewJob::new("ch", "taskmill.span").args(vec![json!(1.0)]);
            j.retry = Some(Retry {
                max: 2,
                intervals: vec![],
            });
            j
        })
        .collect();
    let created = chord::create(
        &store,
        NewChord {
            name: Some("kill-me".into()),
            jobs: vec![],
            enqueue: members,
            callback: NewJob::new("ch", "taskmill.echo").args(vec![json!("after")]),
            on_failure: Policy::Fail,
        },
    )
    .await
    .unwrap();
    assert_eq!(created.status, "waiting");
    // Kill a once it runs members (3 slots each: both run some).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n: u64 = store.conn().zcard(keys::started("ch")).await.unwrap();
        if n >= 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "members never started\n{}",
            a.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.child.kill().unwrap();
    let _ = a.child.wait();
    let mut c = Spawned::start(&url, &flags);
    let logs = || format!("{}\n{}", b.logs(), c.logs());
    wait_status(&store, "kill-me", "done", 40, &logs).await;
    wait_job(&store, &created.callback_id, "finished", 20).await;
    // Let every tick of both live workers pass over the done chord: still one callback.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let results = callback_runs(&store, &created.callback_id).await;
    assert_eq!(results, 1, "callback ran {results} times");
    let finished: u64 = store.conn().zcard(keys::finished("ch")).await.unwrap();
    assert_eq!(finished, 7, "6 members + 1 callback");
    let s = summary(&store, &created.callback_id).await;
    assert_eq!(s["group"], "kill-me");
    assert_eq!(s["ids"].as_array().unwrap().len(), 6, "{s}");
    assert_eq!(s["results"].as_object().unwrap().len(), 6, "{s}");
    assert!(s["statuses"]
        .as_object()
        .unwrap()
        .values()
        .all(|v| v == "finished"));
    let open: Option<f64> = store
        .conn()
        .zscore(keys::CHORDS_OPEN, "kill-me")
        .await
        .unwrap();
    assert_eq!(open, None);
    // RQ's view: the group set and the members' group_id.
    let group: Vec<String> = store.conn().smembers(keys::group("kill-me")).await.unwrap();
    assert_eq!(group.len(), 6);
    let gid: String = store
        .conn()
        .hget(keys::job(&group[0]), "group_id")
        .await
        .unwrap();
    assert_eq!(gid, "kill-me");
    assert!(b.terminate(10) && c.terminate(10));
    drop(server);
}

/// Runs an in-process pool until `until` holds (the chord tick needs a live pool).
async fn with_pool<F, Fut>(store: &Store, queue: &str, until: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let cfg = engine::worker::PoolConfig {
        queues: vec![queue.to_string()],
        concurrency: 2,
        burst: false,
        with_scheduler: false,
        ..engine::worker::PoolConfig::default()
    };
    let shutdown = engine::worker::Shutdown::default();
    let h = tokio::spawn(engine::worker::run(
        store.clone(),
        cfg,
        engine::worker::Handlers::builtin(),
        shutdown.clone(),
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !until().await {
        assert!(Instant::now() < deadline, "condition not reached");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.graceful.cancel();
    h.await.unwrap().unwrap();
}

fn two_members(q: &str) -> Vec<NewJob> {
    vec![
        NewJob::new(q, "taskmill.echo").args(vec![json!(1)]),
        NewJob::new(q, "taskmill.fail").args(vec![json!("boom")]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_fail_skips_the_callback_and_always_runs_it() {
    let store = crate::support::ctx().await.store;
    let fail = chord::create(
        &store,
        NewChord {
            name: Some("pf".into()),
            jobs: vec![],
            enqueue: two_members("pol"),
            callback: NewJob::new("pol", "taskmill.echo"),
            on_failure: Policy::Fail,
        },
    )
    .await
    .unwrap();
    let always = chord::create(
        &store,
        NewChord {
            name: Some("pa".into()),
            jobs: vec![],
            enqueue: two_members("pol"),
            callback: NewJob::new("pol", "taskmill.echo"),
            on_failure: Policy::Always,
        },
    )
    .await
    .unwrap();
    let s = store.clone();
    let cb = always.callback_id.clone();
    with_pool(&store, "pol", move || {
        let (s, cb) = (s.clone(), cb.clone());
        async move {
            chord_status(&s, "pf").await == "failed"
                && s.conn()
                    .hget::<_, _, Option<String>>(keys::job(&cb), "status")
                    .await
                    .unwrap()
                    .as_deref()
                    == Some("finished")
        }
    })
    .await;
    assert!(!crate::support::exists(&store, &keys::job(&fail.callback_id)).await);
    let v = chord::get(&store, "pf").await.unwrap().unwrap();
    assert_eq!((v.total, v.ended, v.failed), (2, 2, 1));
    assert_eq!(chord_status(&store, "pa").await, "done");
    let sm = summary(&store, &always.callback_id).await;
    let st: Vec<&str> = sm["statuses"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(st.contains(&"finished") && st.contains(&"failed"), "{sm}");
    // The echo member's result is passed on; the failed one has none.
    assert_eq!(sm["results"].as_object().unwrap().len(), 1, "{sm}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_run_by_python_rq_complete_the_chord_through_the_tick() {
    let Some(py) = python() else { return };
    let url = crate::support::fresh_url();
    let store = Store::connect(&url).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            enqueue(
                &store,
                NewJob::new("py", "pytasks.add").args(vec![json!(i), json!(10)]),
            )
            .await
            .unwrap(),
        );
    }
    let made = chord::create(
        &store,
        NewChord {
            name: Some("pyg".into()),
            jobs: ids.clone(),
            enqueue: vec![],
            callback: NewJob::new("after", "taskmill.echo"),
            on_failure: Policy::Fail,
        },
    )
    .await
    .unwrap();
    // Python's own worker runs the members (it never runs our finish script).
    let rq = py.parent().unwrap().join("rq");
    let out = std::process::Command::new(&rq)
        .args([
            "worker",
            "--burst",
            "-u",
            &url,
            "--serializer",
            "rq.serializers.JSONSerializer",
            "py",
        ])
        .current_dir(crate::support_repo_root().join("tests/interop"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(chord_status(&store, "pyg").await, "waiting");
    let s = store.clone();
    let cb = made.callback_id.clone();
    with_pool(&store, "after", move || {
        let (s, cb) = (s.clone(), cb.clone());
        async move {
            s.conn()
                .hget::<_, _, Option<String>>(keys::job(&cb), "status")
                .await
                .unwrap()
                .as_deref()
                == Some("finished")
        }
    })
    .await;
    let sm = summary(&store, &made.callback_id).await;
    // pytasks.add results, JSON-serialized by Python: 10, 11, 12.
    let mut got: Vec<i64> = sm["results"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, [10, 11, 12], "{sm}");
}

fn python() -> Option<std::path::PathBuf> {
    let py = std::env::var_os("TASKMILL_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::support_repo_root().join(".venv/bin/python"));
    if py.exists() {
        return Some(py);
    }
    assert_eq!(
        std::env::var("TASKMILL_SKIP_PY").as_deref(),
        Ok("1"),
        "no Python RQ at {}",
        py.display()
    );
    None
}

#[tokio::test]
async fn api_creates_groups_and_refuses_unknown_ids() {
    let c = ctx().await;
    let r = send(
        &c.app,
        post(
            "/api/v1/groups",
            r#"{"name": "g1", "jobs": ["nope-1", "nope-2"], "callback": {"queue": "q", "func": "taskmill.echo"}}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("nope-1"), "{}", r.body);
    assert!(!crate::support::exists(&c.store, &keys::chord("g1")).await);
    let id = crate::support::enqueue(&c.store, "q", "taskmill.echo").await;
    let body = json!({"name": "g1", "jobs": [id], "callback": {"queue": "q", "func": "taskmill.echo"},
        "enqueue": [{"queue": "q", "func": "taskmill.echo", "args": [2]}], "on_failure": "always"});
    let r = send(&c.app, post("/api/v1/groups", &body.to_string())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["name"], "g1");
    assert_eq!(v["members"].as_array().unwrap().len(), 2);
    assert_eq!(v["status"], "waiting");
    assert_eq!(
        crate::support::last_audit(&c.store).await.action,
        "create-chord"
    );
    // Same name again: 409.
    let r = send(&c.app, post("/api/v1/groups", &body.to_string())).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = send(&c.app, get("/api/v1/groups/g1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (v["total"].as_u64(), v["ended"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(v["policy"], "always");
    assert_eq!(send(&c.app, get("/api/v1/groups/none")).await.status, 404);
    assert_eq!(
        send(&c.app, get("/api/v1/groups/bad%20name")).await.status,
        400
    );
    let page = send(&c.app, get("/groups/g1")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("0/2 ended"), "{}", page.body);
    assert_eq!(send(&c.app, get("/groups/none")).await.status, 404);
    // Bad policy / no members: 400.
    let r = send(
        &c.app,
        post(
            "/api/v1/groups",
            r#"{"jobs": [], "callback": {"queue": "q", "func": "f"}}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = send(&c.app, post("/api/v1/groups", &json!({"jobs": [id], "callback": {"queue": "q", "func": "f"}, "on_failure": "sometimes"}).to_string())).await;
    assert_eq!(r.status, 400, "{}", r.body);
}
