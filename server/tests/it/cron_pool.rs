//! Cron and Python pools through the binary, the API and the console: bad cron files refused
//! with line and reason (exit 2), `/api/v1/cron` and the Cron page listing a running scheduler,
//! run-now audited, and a `taskmill pool` of real `rq worker`s scaled 1 → 3 → 1 (seen by
//! `rq info`) with a SIGKILLed child restarted.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use engine::cron::runner::{RunnerConfig, SystemClock};
use engine::keys;
use tokio_util::sync::CancellationToken;

use crate::support::*;

fn taskmill(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskmill"))
        .args(args)
        .env("REDIS_URL", url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run taskmill")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tm-cronpool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_cron_files_are_refused_with_line_and_reason() {
    let url = fresh_url();
    let cases = [
        (
            "expr.toml",
            "[jobs.a]\nfunc = \"f\"\ncron = \"61 * * * *\"\n",
            ":3: ",
            "minute: 61 is out of range",
        ),
        (
            "tz.toml",
            "[jobs.a]\nfunc = \"f\"\ncron = \"0 2 * * *\"\ntimezone = \"Europe/Nowhere\"\n",
            ":4: ",
            "IANA",
        ),
        (
            "toml.toml",
            "[jobs.a]\nfunc = \"f\"\ninterval = [\n",
            ":3: ",
            "",
        ),
    ];
    for (name, text, line, why) in cases {
        let path = temp_file(name, text);
        let p = path.to_str().unwrap();
        for args in [
            vec!["cron", "--cron", p],
            vec!["worker", "--queues", "q", "--cron", p],
        ] {
            let out = taskmill(&url, &args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!("{name}{line}")) && err.contains(why),
                "{args:?}: {err}"
            );
        }
    }
}

#[tokio::test]
async fn cron_api_and_page_list_jobs_and_run_now_is_audited() {
    let c = ctx().await;
    let jobs = engine::cron::config::parse(
        "[jobs.nightly-report]\nfunc = \"reports.build\"\nqueue = \"reports\"\ncron = \"30 2 * * *\"\ntimezone = \"Europe/Berlin\"\nargs = [1]\n",
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let cfg = RunnerConfig {
        config_file: "cron.toml".into(),
        ..RunnerConfig::default()
    };
    let task = tokio::spawn(engine::cron::runner::run(
        c.store.clone(),
        jobs,
        Arc::new(SystemClock),
        cfg,
        cancel.clone(),
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    let list = loop {
        let r = send(&c.app, get("/api/v1/cron")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = r.json();
        if v["schedulers"].as_array().is_some_and(|a| !a.is_empty()) {
            break v;
        }
        assert!(Instant::now() < deadline, "scheduler never listed: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let s = &list["schedulers"][0];
    assert_eq!(s["kind"], "taskmill");
    assert_eq!(s["jobs"][0]["name"], "nightly-report");
    assert_eq!(s["jobs"][0]["cron"], "30 2 * * *");
    assert_eq!(s["jobs"][0]["timezone"], "Europe/Berlin");
    assert!(s["jobs"][0]["next_enqueue_time"].as_f64().is_some());

    let page = send(&c.app, get("/cron")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("nightly-report") && page.body.contains("30 2 * * * (Europe/Berlin)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-testid=\"run-now-nightly-report\""));

    let r = send(&c.app, post("/api/v1/cron/nightly-report/run", "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(llen(&c.store, &keys::queue("reports")).await, 1);
    let a = last_audit(&c.store).await;
    assert_eq!(
        (a.action.as_str(), a.target),
        ("run-cron", format!("cron nightly-report → {id}"))
    );
    let page = send(&c.app, get("/cron")).await;
    assert!(page.body.contains(&id), "the last run links its job");

    let r = send(&c.app, post("/api/v1/cron/no-such-job/run", "")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    cancel.cancel();
    task.await.unwrap().unwrap();
}

/// The venv's `rq`, or `None` to skip (`TASKMILL_SKIP_PY=1`).
fn rq_bin() -> Option<PathBuf> {
    let py = std::env::var_os("TASKMILL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"));
    if !py.exists() && std::env::var("TASKMILL_SKIP_PY").as_deref() == Ok("1") {
        return None;
    }
    Some(py.parent().expect("bin dir").join("rq"))
}

/// `rq info -u URL -W`: the "N workers" count.
fn rq_info_workers(rq: &PathBuf, url: &str) -> usize {
    let out = Command::new(rq)
        .args(["info", "-u", url, "-W"])
        .output()
        .expect("rq info");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            l.strip_suffix(" queues")
                .and_then(|l| l.split(" workers").next())
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no worker count in: {text}"))
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Adopted children of the pool: (worker name, pid).
async fn children(store: &engine::Store, pool_id: &str) -> Vec<(String, i64)> {
    let ws = engine::workers::list(store).await.unwrap();
    ws.into_iter()
        .filter(|w| !w.stale && w.pool.as_ref().is_some_and(|p| p.pool_id == pool_id))
        .map(|w| (w.name, w.pid.unwrap_or(0)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pool_scales_1_3_1_and_restarts_a_crashed_child() {
    let Some(rq) = rq_bin() else { return };
    let c = ctx().await;
    let url = c.store.url().to_string();
    let cmd = format!("{} worker -u {url} poolq", rq.display());
    let mut pool = Kill(
        Command::new(env!("CARGO_BIN_EXE_taskmill"))
            .args([
                "pool",
                "--command",
                &cmd,
                "--min",
                "1",
                "--max",
                "4",
                "--stop-timeout",
                "10",
            ])
            .env("REDIS_URL", &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start taskmill pool"),
    );
    // The pool record, and its one child adopted.
    let pool_id: String;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ids: Vec<String> = redis(&c.store, redis::cmd("SMEMBERS").arg(keys::POOLS)).await;
        if let Some(id) = ids.first() {
            if children(&c.store, id).await.len() == 1 {
                pool_id = id.clone();
                break;
            }
        }
        assert!(Instant::now() < deadline, "pool never registered its child");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(rq_info_workers(&rq, &url), 1);
    let page = send(&c.app, get("/workers")).await;
    assert!(
        page.body.contains("Python pool") && page.body.contains("1 processes desired · 1 running"),
        "{}",
        page.body
    );

    // Scale 1 → 3 through the API, by the pool's id.
    let r = send(
        &c.app,
        post(
            &format!("/api/v1/workers/{pool_id}/scale"),
            r#"{"slots": 3}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["receivers"], 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while children(&c.store, &pool_id).await.len() != 3 {
        assert!(Instant::now() < deadline, "never reached 3 children");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for("rq info to show 3 workers", 10, || {
        rq_info_workers(&rq, &url) == 3
    })
    .await;
    assert_eq!(last_audit(&c.store).await.target, format!("{pool_id} → 3"));

    // Outside --min / --max: refused; a plain rq worker (no pool): 409.
    let r = send(
        &c.app,
        post(
            &format!("/api/v1/workers/{pool_id}/scale"),
            r#"{"slots": 5}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // 3 → 1 through the CLI, naming one of the child rq workers.
    let (child, _) = children(&c.store, &pool_id).await.remove(0);
    let out = taskmill(&url, &["scale", &child, "1"]);
    assert!(out.status.success(), "{out:?}");
    wait_for("rq info to show 1 worker", 30, || {
        rq_info_workers(&rq, &url) == 1
    })
    .await;
    assert_eq!(children(&c.store, &pool_id).await.len(), 1);

    // SIGKILL the child: the pool starts another (a new pid, adopted again).
    let (killed, pid) = children(&c.store, &pool_id).await.remove(0);
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = children(&c.store, &pool_id).await;
        if now.iter().any(|(_, p)| *p != pid) {
            break;
        }
        assert!(Instant::now() < deadline, "crashed child never replaced");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // SIGTERM: children stopped gracefully, record gone, exit 0.
    unsafe {
        libc::kill(pool.0.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = pool.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "pool did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(!exists(&c.store, &keys::pool(&pool_id)).await);
    // The SIGKILLed child's hash outlives its pool: scaling it now is a conflict, not a 200.
    let r = send(
        &c.app,
        post(
            &format!("/api/v1/workers/{killed}/scale"),
            r#"{"slots": 2}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("no longer running"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pool_autoscales_on_depth() {
    let Some(rq) = rq_bin() else { return };
    let c = ctx().await;
    let url = c.store.url().to_string();
    // Six jobs waiting on a queue the workers do not serve, so the backlog stays put.
    for _ in 0..6 {
        enqueue(&c.store, "backlog", "taskmill.echo").await;
    }
    let cmd = format!("{} worker -u {url} poolq", rq.display());
    let _pool = Kill(
        Command::new(env!("CARGO_BIN_EXE_taskmill"))
            .args(["pool", "--command", &cmd, "--min", "1", "--max", "4"])
            .args([
                "--autoscale",
                "depth=2",
                "--cooldown",
                "0",
                "--queues",
                "backlog",
            ])
            .env("REDIS_URL", &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start taskmill pool"),
    );
    // ceil(6 / 2) = 3 processes.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ids: Vec<String> = redis(&c.store, redis::cmd("SMEMBERS").arg(keys::POOLS)).await;
        if let Some(id) = ids.first() {
            if children(&c.store, id).await.len() == 3 {
                let desired: u64 = redis(
                    &c.store,
                    redis::cmd("HGET").arg(keys::pool(id)).arg("concurrency"),
                )
                .await;
                assert_eq!(desired, 3);
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "autoscale never reached 3 processes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
