//! The `taskmill` binary itself: one-shot commands, exit codes, info output, and the worker's
//! signal handling.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

fn taskmill(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskmill"))
        .args(args)
        .env("REDIS_URL", url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run taskmill")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[tokio::test]
async fn enqueue_info_job_delete_round_trip() {
    let url = fresh_url();
    let out = taskmill(
        &url,
        &[
            "enqueue",
            "--queue",
            "mail",
            "taskmill.echo",
            "--args",
            "[1, \"x\"]",
        ],
    );
    assert!(out.status.success(), "{:?}", out);
    let id = stdout(&out);
    engine::limits::validate_job_id(&id).expect("prints the id");

    let out = taskmill(&url, &["info"]);
    assert!(out.status.success(), "{:?}", out);
    let text = stdout(&out);
    assert!(text.contains("mail |"), "{text}");
    assert!(text.contains("1 queues, 1 jobs total"), "{text}");

    let out = taskmill(&url, &["info", "--json"]);
    let snap: engine::model::Snapshot = serde_json::from_slice(&out.stdout).expect("snapshot JSON");
    assert_eq!(snap.queues[0].queued, 1);

    let out = taskmill(&url, &["job", &id, "--json"]);
    let detail: serde_json::Value = serde_json::from_slice(&out.stdout).expect("job JSON");
    assert_eq!(detail["summary"]["id"], id.as_str());
    let out = taskmill(&url, &["job", &id]);
    assert!(stdout(&out).contains("taskmill.echo"));

    // The --redis flag wins over REDIS_URL.
    let out = taskmill("redis://127.0.0.1:1", &["--redis", &url, "delete", &id]);
    assert!(out.status.success(), "{:?}", out);
    assert_eq!(stdout(&out), "1");
    let store = engine::Store::connect(&url).await.unwrap();
    assert!(!exists(&store, &engine::keys::job(&id)).await);
    assert_eq!(last_audit(&store).await.action, "delete");
}

#[test]
fn exit_codes() {
    let url = fresh_url();
    let bad_json = taskmill(&url, &["enqueue", "--queue", "q", "f", "--args", "nope"]);
    assert_eq!(bad_json.status.code(), Some(2), "{:?}", bad_json);
    let unknown_flag = taskmill(&url, &["info", "--bogus"]);
    assert_eq!(unknown_flag.status.code(), Some(2));
    let closed = format!("redis://127.0.0.1:{}", free_port());
    let down = taskmill(&closed, &["info"]);
    assert_eq!(down.status.code(), Some(1), "{:?}", down);
    assert!(String::from_utf8_lossy(&down.stderr).contains("cannot connect"));
    let missing = taskmill(&url, &["job", "no-such-job"]);
    assert_eq!(missing.status.code(), Some(1));
    // Several instances are for the console only, each named, each name once.
    let named = format!("a={url}");
    for (args, why) in [
        (
            vec!["info", "--redis", named.as_str()],
            "for `taskmill serve` only",
        ),
        (
            vec!["serve", "--redis", named.as_str(), "--redis", url.as_str()],
            "NAME=URL",
        ),
        (
            vec![
                "serve",
                "--redis",
                named.as_str(),
                "--redis",
                named.as_str(),
            ],
            "given twice",
        ),
    ] {
        let o = taskmill(&url, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn burst_worker_runs_jobs_then_exits() {
    let url = fresh_url();
    let store = engine::Store::connect(&url).await.unwrap();
    enqueue(&store, "w", "taskmill.echo").await;
    let out = taskmill(
        &url,
        &["worker", "--queues", "w", "--burst", "--concurrency", "2"],
    );
    assert!(out.status.success(), "{:?}", out);
    assert_eq!(llen(&store, &engine::keys::queue("w")).await, 0);
    assert_eq!(zcard(&store, &engine::keys::finished("w")).await, 1);
}

#[tokio::test]
async fn worker_stops_gracefully_on_sigterm() {
    let url = fresh_url();
    let store = engine::Store::connect(&url).await.unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskmill"))
        .args(["worker", "--queues", "sig"])
        .env("REDIS_URL", &url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Registered once its worker hashes are listed.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n: u64 = redis(&store, redis::cmd("SCARD").arg("rq:workers")).await;
        if n > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "worker never registered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "worker did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    let n: u64 = redis(&store, redis::cmd("SCARD").arg("rq:workers")).await;
    assert_eq!(n, 0, "worker deregistered on the way out");
}
