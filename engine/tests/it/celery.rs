//! Celery on Redis against the real library (celery 5.7 / kombu 5.7 from the venv): the shared
//! reference fixture decodes completely, a queue nobody consumes is listed with its count, the
//! priority lists add up, undecodable envelopes say so, and task records dedupe across
//! consoles. Real worker processes are in `celery_workers`.

use std::path::{Path, PathBuf};
use std::process::Command;

use engine::celery::fixture::{classify, KeyKind};
use engine::celery::{queues, tasks, Celery, Transport};
use serde_json::{json, Value};

use crate::support::{fresh_url, python, repo_root};

/// The venv's python with celery 5.7, or `None` (skip) like the RQ interop tests.
pub fn celery_python() -> Option<PathBuf> {
    let py = python()?;
    let ok = Command::new(&py)
        .args(["-c", "import celery; assert celery.__version__ == '5.7.0'"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the Celery tests need celery==5.7.0 in {} (.venv/bin/pip install -r \
         tests/interop/requirements.txt)",
        py.display()
    );
    Some(py)
}

/// Runs `py args…` in tests/interop with the broker / backend pointed at `url`.
pub fn run(py: &Path, url: &str, args: &[&str]) -> String {
    let state = std::env::temp_dir().join(format!("taskmill-celery-{}", engine::enqueue::uuid4()));
    let out = Command::new(py)
        .args(args)
        .current_dir(repo_root().join("tests/interop"))
        .env("CELERY_BROKER_URL", url)
        .env("CELERY_FIXTURE_DIR", &state)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn handle(url: &str) -> Celery {
    Celery::connect(url, None, Transport::default()).unwrap()
}

#[tokio::test]
async fn fixture_decodes_completely() {
    let Some(py) = celery_python() else { return };
    let url = fresh_url();
    let built: Value = serde_json::from_str(&run(
        &py,
        &url,
        &["celery_fixture.py", "build", &url, "--flush"],
    ))
    .expect("fixture prints its ids as JSON");
    let ids = &built["ids"];
    let c = handle(&url);

    // Queues: `celery` and `reports` have no consumer and are still listed with their counts.
    let q = queues::by_name(&queues::list(&c).await.unwrap());
    assert_eq!(q.keys().collect::<Vec<_>>(), ["celery", "reports", "work"]);
    assert_eq!(q["celery"].ready, 3);
    assert_eq!(q["celery"].consumers, 0);
    assert_eq!(q["reports"].ready, 3);
    assert_eq!(
        q["reports"]
            .by_priority
            .iter()
            .map(|(s, n)| (*s, *n))
            .collect::<Vec<_>>(),
        [(0, 1), (3, 1), (9, 1)]
    );
    assert_eq!(
        q["work"].ready, 1,
        "the worker restored its unacked ETA message on shutdown"
    );
    assert_eq!(q["work"].reserved, 0);

    // Every message decodes: ids, tasks, args, ETA.
    let page = queues::page(&c, "celery", 0, 50).await.unwrap();
    assert_eq!(page.messages.len(), 3);
    for m in &page.messages {
        assert_eq!(m.undecodable, None, "{m:?}");
        assert_eq!(m.task.as_deref(), Some("fixture.add"));
        assert_eq!(m.protocol, 2);
    }
    // Consumption order: the oldest (first published) first.
    assert_eq!(
        page.messages[0].id.as_deref(),
        ids["q_celery_plain"].as_str()
    );
    assert_eq!(page.messages[1].kwargs.as_deref(), Some("{'x': 2, 'y': 2}"));
    assert_eq!(
        page.messages[2].eta.as_deref(),
        Some("2099-01-01T00:00:00+00:00")
    );
    let reports = queues::page(&c, "reports", 0, 50).await.unwrap();
    let order: Vec<_> = reports
        .messages
        .iter()
        .map(|m| m.priority.unwrap())
        .collect();
    assert_eq!(
        order,
        [0, 5, 9],
        "priority step 0 is consumed first on Redis"
    );
    let paged = queues::page(&c, "reports", 1, 1).await.unwrap();
    assert_eq!(paged.messages[0].priority, Some(5));

    // Every key of the dump is accounted for.
    let mut conn = c.broker.conn();
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(keys.len() >= 27, "{}", keys.len());
    let names: Vec<String> = q.keys().cloned().collect();
    for key in &keys {
        let kind = classify(&c.transport, key, &names);
        assert_ne!(kind, KeyKind::Unknown, "{}", String::from_utf8_lossy(key));
    }

    // Results: states, exceptions, workflow.
    let get = |name: &'static str| {
        let id = ids[name].as_str().unwrap().to_string();
        let c = &c;
        async move { tasks::get(c, &id).await.unwrap().expect(name) }
    };
    assert_eq!(get("success").await.state, "SUCCESS");
    assert_eq!(get("success").await.result.as_deref(), Some("5"));
    let failed = get("failure").await;
    assert_eq!(failed.state, "FAILURE");
    assert!(failed.exception.unwrap().contains("ValueError"));
    assert!(failed.traceback.unwrap().contains("ValueError"));
    assert_eq!(get("revoked_eta").await.state, "REVOKED");
    let chain_1 = get("chain_1").await;
    assert_eq!(chain_1.children, [ids["chain_2"].as_str().unwrap()]);
    assert_eq!(
        get("chain_2").await.parent_id.as_deref(),
        ids["chain_1"].as_str()
    );
    let queued = get("q_celery_plain").await;
    assert_eq!(queued.state, "PENDING");
    assert!(
        queued.message_known,
        "peeking captured the original message"
    );
    assert_eq!(queued.name.as_deref(), Some("fixture.add"));
    assert!(tasks::get(&c, "never-seen").await.unwrap().is_none());
}

#[tokio::test]
async fn bad_envelopes_render_as_undecodable() {
    let url = fresh_url();
    let c = handle(&url);
    let mut conn = c.broker.conn();
    let good = json!({"body": "W1sxXSwge30sIHt9XQ==", "content-type": "application/json",
        "headers": {"task": "t.ok", "id": "ok1"}, "properties": {"body_encoding": "base64"}});
    let pickled = json!({"body": "gAJLAUsChnEAfXEBfXECh3EDLg==",
        "content-type": "application/x-python-serialize",
        "headers": {"task": "t.pickled", "id": "p1", "argsrepr": null},
        "properties": {"body_encoding": "base64"}});
    let bad_b64 = json!({"body": "%%%", "content-type": "application/json",
        "headers": {"task": "t.bad", "id": "b1"}, "properties": {"body_encoding": "base64"}});
    let huge = format!("{{\"body\": \"{}\"}}", "A".repeat(5 * 1024 * 1024));
    let items: Vec<String> = vec![
        good.to_string(),
        "not json at all".into(),
        "[1, 2, 3]".into(),
        pickled.to_string(),
        bad_b64.to_string(),
        huge,
    ];
    for i in &items {
        let () = redis::cmd("LPUSH")
            .arg("hostile")
            .arg(i)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let member =
        engine::keys::celery::binding_member("hostile", "hostile", engine::keys::celery::SEP);
    let () = redis::cmd("SADD")
        .arg("_kombu.binding.hostile")
        .arg(member)
        .query_async(&mut conn)
        .await
        .unwrap();
    let () = redis::cmd("HSET")
        .arg("unacked")
        .arg("tag1")
        .arg("{broken")
        .query_async(&mut conn)
        .await
        .unwrap();
    let list = queues::list(&c).await.unwrap();
    assert_eq!(queues::by_name(&list)["hostile"].ready, 6);
    let page = queues::page(&c, "hostile", 0, 10).await.unwrap();
    let verdicts: Vec<Option<bool>> = page
        .messages
        .iter()
        .map(|m| Some(m.undecodable.is_some()))
        .collect();
    assert_eq!(
        verdicts,
        [
            Some(false),
            Some(true),
            Some(true),
            Some(false),
            Some(true),
            Some(true)
        ]
    );
    assert_eq!(
        page.messages[3].args.as_deref(),
        Some("(1, 2)"),
        "pickle decoded for display"
    );
    assert_eq!(
        page.messages[4].id.as_deref(),
        Some("b1"),
        "headers still shown"
    );
}

#[tokio::test]
async fn task_records_dedupe_and_follow_state_rules() {
    let url = fresh_url();
    let c = handle(&url);
    let ev = |typ: &str, ts: f64, extra: Value| {
        let mut e = json!({"type": typ, "uuid": "t1", "timestamp": ts, "hostname": "w@h"});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };
    let received = ev(
        "task-received",
        1.0,
        json!({"name": "t.add", "args": "(1, 2)", "kwargs": "{}"}),
    );
    assert!(tasks::record(&c, &received).await.unwrap());
    // A second console receiving the same event does nothing.
    assert!(!tasks::record(&c, &received).await.unwrap());
    tasks::record(
        &c,
        &ev(
            "task-succeeded",
            3.0,
            json!({"result": "3", "runtime": 0.5}),
        ),
    )
    .await
    .unwrap();
    // A late, older event never moves a ready state back.
    tasks::record(&c, &ev("task-started", 2.0, json!({})))
        .await
        .unwrap();
    let t = tasks::get(&c, "t1").await.unwrap().unwrap();
    assert_eq!(
        (t.state.as_str(), t.runtime_s, t.result.as_deref()),
        ("SUCCESS", Some(0.5), Some("3"))
    );
    assert_eq!(t.timeline.len(), 3);
    let page = tasks::list(&c, Some("SUCCESS"), None, 0, 10).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(tasks::list(&c, Some("STARTED"), None, 0, 10)
        .await
        .unwrap()
        .items
        .is_empty());
    let both = tasks::list(&c, Some("SUCCESS"), Some("t.add"), 0, 10)
        .await
        .unwrap();
    assert_eq!(both.items[0].name.as_deref(), Some("t.add"));
    assert!(tasks::list(&c, Some("NOPE"), None, 0, 10).await.is_err());
}

/// Redis restarts under the console: the event subscription notices, says so, subscribes again
/// by itself, and events flow again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_subscription_survives_a_redis_restart() {
    let mut server = crate::support::start_redis();
    let port = server.port;
    let url = server.url(0);
    let c = std::sync::Arc::new(handle(&url));
    let task = tokio::spawn(engine::celery::events::run(c.clone()));
    let wait = |what: &'static str, f: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !f() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20),
                "timed out: {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    wait("subscribed", &|| c.event_status().connected);
    server.crash();
    wait("noticed the outage", &|| {
        let s = c.event_status();
        !s.connected && s.last_error.is_some()
    });
    let _again = engine::testing::RedisServer::start_on(port, &[]);
    wait("subscribed again", &|| {
        let s = c.event_status();
        s.connected && s.reconnects >= 1
    });
    // A heartbeat published now reaches the worker list.
    let body = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        r#"{"type": "worker-heartbeat", "hostname": "w9@h", "freq": 2.0, "active": 0}"#,
    );
    let env = json!({"body": body, "content-type": "application/json",
                     "properties": {"body_encoding": "base64"}, "headers": {}});
    let mut conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: u64 = redis::cmd("PUBLISH")
        .arg("/0.celeryev/worker.heartbeat")
        .arg(env.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    wait("event after restart", &|| {
        c.workers().iter().any(|w| w.hostname == "w9@h" && w.online)
    });
    task.abort();
}
