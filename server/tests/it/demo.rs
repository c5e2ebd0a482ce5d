//! `taskmill demo` end to end: private Redis, console, worker and traffic come up; the API shows
//! processed jobs within seconds, and the real Celery worker's tasks (succeeded and failed) on
//! the Celery API; SIGINT stops everything: the private redis-server and every process of the
//! Celery worker's group are gone. A Redis named only by `REDIS_URL` or `CELERY_BROKER_URL` (a
//! user's real one, say) is never written to.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{free_port, fresh_url};

/// A minimal HTTP/1.0 GET (the server closes the connection after the reply).
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// Polls `ok` until it succeeds; on timeout the panic names what it last saw.
fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while let Err(seen) = ok() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last saw {seen}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The venv's Python (scripts/lib.sh exports it; `cargo test` alone falls back to `.venv`).
fn python() -> String {
    std::env::var("TASKMILL_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python").into())
}

/// Live pids in process group `pgid` (field 5 of /proc/<pid>/stat), zombies excluded.
fn group_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // After the command's closing parenthesis: state, ppid, pgrp, ...
        let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 2 && f[0] != "Z" && f[2] == pgid.to_string() {
            out.push(pid);
        }
    }
    out
}

/// A failed assertion must not leave the demo (and its Redis and Celery worker) running: SIGINT
/// (its own clean stop), SIGKILL after 30 s.
struct StopOnPanic(std::process::Child);

impl Drop for StopOnPanic {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_serves_traffic_and_cleans_up() {
    let port = free_port();
    let log = std::env::temp_dir().join(format!("taskmill-demo-test-{port}.log"));
    // A Redis the user happens to point REDIS_URL at: the demo must not touch it.
    let bystander = fresh_url();
    let child = Command::new(env!("CARGO_BIN_EXE_taskmill"))
        .args(["demo", "--bind", &format!("127.0.0.1:{port}")])
        .env("REDIS_URL", &bystander)
        .env("CELERY_BROKER_URL", &bystander)
        .env("TASKMILL_PYTHON", python())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("run taskmill demo");
    let mut child = StopOnPanic(child);

    wait_for("the console", 30, || match http_get(port, "/healthz") {
        Some((200, _)) => Ok(()),
        other => Err(format!("{other:?}")),
    });
    wait_for("processed jobs on every demo queue", 60, || {
        let Some((200, body)) = http_get(port, "/api/v1/overview") else {
            return Err("no overview".into());
        };
        let seen: serde_json::Value = serde_json::from_str(&body).unwrap();
        let t = &seen["totals"];
        let queues: Vec<&str> = seen["queues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["name"].as_str().unwrap())
            .collect();
        let ready = t["finished"].as_u64() > Some(5)
            && seen["workers"].as_array().map(Vec::len) == Some(4)
            && ["default", "high", "low", "reports"]
                .iter()
                .all(|q| queues.contains(q));
        ready.then_some(()).ok_or(body)
    });
    wait_for("the demo's Celery worker and its tasks", 90, || {
        let get = |path: &str| match http_get(port, path) {
            Some((200, body)) => Ok(serde_json::from_str::<serde_json::Value>(&body).unwrap()),
            other => Err(format!("{path}: {other:?}")),
        };
        let workers = get("/api/v1/celery/workers")?;
        let online =
            workers.as_array().unwrap().iter().any(|w| {
                w["online"] == true && w["hostname"].as_str().unwrap().starts_with("demo@")
            });
        let ok = get("/api/v1/celery/tasks?state=SUCCESS&limit=1")?;
        let failed = get("/api/v1/celery/tasks?state=FAILURE&limit=1")?;
        let seen = |page: &serde_json::Value| page["total"].as_u64() > Some(0);
        (online && seen(&ok) && seen(&failed))
            .then_some(())
            .ok_or(format!("{workers} {ok} {failed}"))
    });
    let (status, page) = http_get(port, "/").unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("default"));

    let text = std::fs::read_to_string(&log).unwrap();
    let redis_port: u16 = text
        .split("private redis-server on port ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("redis port in the log: {text}"));
    assert!(TcpStream::connect(("127.0.0.1", redis_port)).is_ok());
    let celery_pid: i32 = text
        .split("started a Celery worker (pid ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("celery worker pid in the log: {text}"));
    assert!(!group_members(celery_pid).is_empty(), "celery worker group");

    unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.0.kill();
            panic!("demo did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert!(
        TcpStream::connect(("127.0.0.1", redis_port)).is_err(),
        "private redis-server stopped"
    );
    assert!(http_get(port, "/healthz").is_none(), "console stopped");
    // SIGKILLed pool processes take a moment to die.
    wait_for("no Celery worker process left", 5, || {
        let left = group_members(celery_pid);
        left.is_empty().then_some(()).ok_or(format!("{left:?}"))
    });
    let mut conn = redis::Client::open(bystander.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let keys: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
    assert_eq!(keys, 0, "the demo wrote into the Redis named by REDIS_URL");
    let _ = std::fs::remove_file(&log);
}
