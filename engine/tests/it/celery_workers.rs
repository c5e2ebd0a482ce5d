//! Real `celery worker` processes (prefork, `-E`) against Taskmill's Celery half: workers appear
//! from events, pool grow shows in `celery inspect stats`, revoke with terminate stops a running
//! task and its result becomes REVOKED, shutdown takes the worker offline, a SIGKILLed worker
//! turns offline after its heartbeat window, an ETA message counts as reserved, and a command to
//! nobody answers `NoReply`.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::actions::{Action, Outcome};
use engine::celery::{perform, queues, tasks, Celery};
use serde_json::Value;

use super::celery::{celery_python, handle, run};
use crate::support::{fresh_url, repo_root};

/// A `celery worker` in its own process group, killed (group and all) on drop.
pub(crate) struct Worker(pub(crate) Child);

impl Worker {
    pub(crate) fn start(py: &std::path::Path, url: &str, node: &str, queues: &str) -> Worker {
        let celery = py.parent().unwrap().join("celery");
        let child = Command::new(celery)
            .args([
                "-A",
                "celery_app",
                "worker",
                "-E",
                "--pool",
                "prefork",
                "-c",
                "1",
                "-n",
                node,
                "-Q",
                queues,
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "WARNING",
            ])
            .current_dir(repo_root().join("tests/interop"))
            .env("CELERY_BROKER_URL", url)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start celery worker");
        Worker(child)
    }

    fn sigkill(&mut self) {
        // The whole group: the pool's children too.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.sigkill();
        }
    }
}

use std::os::unix::process::CommandExt;

pub(crate) async fn wait_for<F: Fn() -> bool>(what: &str, secs: u64, f: F) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn online(c: &Celery, node: &str) -> bool {
    c.workers().iter().any(|w| w.hostname == node && w.online)
}

fn known_offline(c: &Celery, node: &str) -> bool {
    c.workers().iter().any(|w| w.hostname == node && !w.online)
}

pub(crate) fn send(py: &std::path::Path, url: &str, code: &str) -> String {
    run(
        py,
        url,
        &["-c", &format!("from celery_app import *\n{code}")],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_workers() {
    let Some(py) = celery_python() else { return };
    let url = fresh_url();
    let c = Arc::new(handle(&url));
    let audit = engine::Store::connect(&url).await.unwrap();
    let events = tokio::spawn(engine::celery::events::run(c.clone()));
    wait_for("subscription", 10, || c.event_status().connected).await;

    let mut w1 = Worker::start(&py, &url, "w1@test", "q1");
    wait_for("w1 online", 60, || online(&c, "w1@test")).await;

    // An ETA message the worker holds is reserved, not ready.
    send(
        &py,
        &url,
        "add.apply_async((1, 2), queue='q1', countdown=3600, task_id='eta-1')",
    );
    let mut reserved = 0;
    for _ in 0..100 {
        let q = queues::by_name(&queues::list(&c).await.unwrap());
        reserved = q.get("q1").map_or(0, |q| q.eta);
        if reserved == 1 {
            assert_eq!(q["q1"].ready, 0);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if reserved != 1 {
        let raw: Vec<Vec<u8>> = redis::cmd("HGETALL")
            .arg("unacked")
            .query_async(&mut c.broker.conn())
            .await
            .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut c.broker.conn())
            .await
            .unwrap();
        panic!(
            "ETA not reserved: {:?} {keys:?} {:?}",
            queues::list(&c).await.unwrap(),
            raw.iter()
                .map(|r| String::from_utf8_lossy(r).to_string())
                .collect::<Vec<_>>()
        );
    }

    // Pool grow: `celery inspect stats` reports one more process.
    let procs = || {
        let out = send(&py, &url, "import json; r = app.control.inspect(destination=['w1@test'], timeout=3).stats(); print(json.dumps(r))");
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        v["w1@test"]["pool"]["processes"].as_array().unwrap().len()
    };
    let before = procs();
    let grown = perform::perform(
        &c,
        &audit,
        Action::CeleryPoolGrow {
            worker: "w1@test".into(),
            n: 1,
        },
        "test",
    )
    .await
    .unwrap();
    let Outcome::Replies { replies } = grown else {
        panic!("{grown:?}")
    };
    assert_eq!(replies["w1@test"]["ok"], "pool will grow");
    let mut after = 0;
    for _ in 0..30 {
        after = procs();
        if after == before + 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(after, before + 1);

    // Revoke with terminate stops a running task; its result becomes REVOKED.
    send(
        &py,
        &url,
        "sleepy.apply_async((60,), queue='q1', task_id='long-1')",
    );
    let start = Instant::now();
    loop {
        let t = tasks::get(&c, "long-1").await.unwrap();
        if t.as_ref().is_some_and(|t| t.state == "STARTED") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "long-1 never started: {t:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let revoked = perform::perform(
        &c,
        &audit,
        Action::CeleryRevoke {
            id: "long-1".into(),
            terminate: true,
            signal: Some("SIGTERM".into()),
        },
        "test",
    )
    .await
    .unwrap();
    let Outcome::Replies { replies } = revoked else {
        panic!("{revoked:?}")
    };
    assert_eq!(replies["w1@test"]["ok"], "terminate: long-1");
    let start = Instant::now();
    loop {
        let t = tasks::get(&c, "long-1").await.unwrap().unwrap();
        if t.state == "REVOKED" && t.in_backend {
            let meta: String = redis::cmd("GET")
                .arg("celery-task-meta-long-1")
                .query_async(&mut c.broker.conn())
                .await
                .unwrap();
            assert!(meta.contains("\"REVOKED\""), "{meta}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not revoked: {t:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Retry of a failed task re-publishes its original message (captured from its queue).
    send(
        &py,
        &url,
        "fail.apply_async(queue='held', task_id='fail-1')",
    );
    queues::page(&c, "held", 0, 10).await.unwrap();
    perform::perform(
        &c,
        &audit,
        Action::CeleryAddConsumer {
            worker: "w1@test".into(),
            queue: "held".into(),
        },
        "test",
    )
    .await
    .unwrap();
    let start = Instant::now();
    let failed_at = loop {
        let t = tasks::get(&c, "fail-1").await.unwrap();
        if let Some(at) = t
            .filter(|t| t.state == "FAILURE")
            .and_then(|t| t.timeline.get("failed").copied())
        {
            break at;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "fail-1 never failed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let out = perform::perform(
        &c,
        &audit,
        Action::CeleryRetry {
            id: "fail-1".into(),
        },
        "test",
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        Outcome::Enqueued {
            id: "fail-1".into()
        }
    );
    let start = Instant::now();
    loop {
        let t = tasks::get(&c, "fail-1").await.unwrap().unwrap();
        if t.state == "FAILURE" && t.timeline.get("failed").is_some_and(|at| *at > failed_at) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "retry did not run: {t:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Success cannot be retried; a task never seen is not found.
    let e = perform::perform(&c, &audit, Action::CeleryRetry { id: "never".into() }, "t")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), engine::ErrorKind::NotFound);

    // Nobody answers for an unknown node: NoReply (the API's 504 no_reply).
    let e = perform::perform(
        &c,
        &audit,
        Action::CeleryPoolShrink {
            worker: "ghost@x".into(),
            n: 1,
        },
        "t",
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), engine::ErrorKind::NoReply);

    // A SIGKILLed worker turns offline after its heartbeat window (no goodbye).
    let mut w2 = Worker::start(&py, &url, "w2@test", "q2");
    wait_for("w2 online", 60, || online(&c, "w2@test")).await;
    w2.sigkill();
    let killed = Instant::now();
    wait_for("w2 offline", 15, || known_offline(&c, "w2@test")).await;
    assert!(
        killed.elapsed() >= Duration::from_secs(2),
        "not before its window"
    );

    // Shutdown takes the worker offline (its worker-offline event).
    let out = perform::perform(
        &c,
        &audit,
        Action::CeleryShutdown {
            worker: "w1@test".into(),
        },
        "test",
    )
    .await
    .unwrap();
    assert!(
        matches!(out, Outcome::Sent { receivers } if receivers >= 1),
        "{out:?}"
    );
    wait_for("w1 offline", 30, || known_offline(&c, "w1@test")).await;
    let exited = w1.0.wait().unwrap();
    assert!(exited.success() || exited.code().is_some());

    // Every action left an audit record.
    let log = engine::audit::page(&audit, 0, 50).await.unwrap();
    let names: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    for n in [
        "celery-pool-grow",
        "celery-revoke",
        "celery-retry",
        "celery-shutdown",
    ] {
        assert!(names.contains(&n), "{names:?}");
    }
    events.abort();
}
