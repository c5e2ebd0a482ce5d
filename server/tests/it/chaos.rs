//! Fault tolerance with real processes: `taskmill chaos` SIGKILLs workers mid-run (nothing
//! lost, nothing left started, every duplicate run was in flight in a killed worker, bounded
//! recovery), and a job far longer than the lease runs exactly once with two worker processes.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engine::enqueue::{enqueue, NewJob};
use engine::{keys, Store};
use redis::AsyncCommands;
use serde_json::{json, Value};

use crate::redis::start_redis;

/// A `taskmill` child process, killed on drop; its stderr goes to a file shown on failure.
pub struct Spawned {
    pub child: Child,
    pub log: PathBuf,
}

impl Spawned {
    pub fn start(url: &str, args: &[&str]) -> Spawned {
        let log = std::env::temp_dir().join(format!(
            "taskmill-it-{}-{:08x}.log",
            std::process::id(),
            rand::random::<u32>()
        ));
        let child = Command::new(env!("CARGO_BIN_EXE_taskmill"))
            .args(["--redis", url])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn taskmill");
        Spawned { child, log }
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits up to `secs` for the exit; returns whether it exited 0.
    pub fn terminate(&mut self, secs: u64) -> bool {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

#[test]
fn chaos_run_loses_nothing_and_duplicates_only_killed_in_flight_jobs() {
    let server = start_redis();
    let url = format!("redis://127.0.0.1:{}", server.port);
    let out = Command::new(env!("CARGO_BIN_EXE_taskmill"))
        .args(["--redis", &url, "chaos", "--json"])
        .args(["--jobs", "2000", "--workers", "3", "--concurrency", "4"])
        .args(["--kill-every", "1.5", "--job-ms", "80"])
        .args(["--lease", "3", "--heartbeat", "1", "--reap-interval", "1"])
        .args(["--timeout", "120"])
        .env_remove("RUST_LOG")
        .output()
        .expect("run taskmill chaos");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let r: Value = serde_json::from_str(&stdout).expect("JSON report");
    let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}"));
    assert_eq!(n("jobs"), 2000);
    assert_eq!(n("finished"), 2000, "{r}");
    assert_eq!(
        (n("lost"), n("failed"), n("started"), n("other")),
        (0, 0, 0, 0)
    );
    assert_eq!(
        (n("wip_left"), n("queue_left"), n("intermediate_left")),
        (0, 0, 0)
    );
    assert_eq!(n("result_count_mismatch"), 0);
    assert!(n("kills") >= 3, "too few kills to mean anything: {r}");
    assert_eq!(n("unexpected_exits"), 0);
    // Every run beyond a job's first was cut short by a kill while its worker held the job.
    assert_eq!(n("unexplained_duplicates"), 0, "{r}");
    assert_eq!(n("duplicate_executions"), n("aborted_executions"), "{r}");
    assert!(n("duplicate_executions") <= n("in_flight_at_kills"), "{r}");
    assert_eq!(n("executions"), 2000 + n("duplicate_executions"));
    // Lease 3 s + reap interval 1 s, plus slack for two loaded cores.
    assert!(n("recoveries") >= 1, "no kill hit a busy worker: {r}");
    let max = r["recovery_max_secs"].as_f64().expect("recovery max");
    assert!(max <= 10.0, "recovery took {max} s: {r}");
    assert_eq!(r["ok"], true);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_longer_than_the_lease_runs_once_with_two_worker_processes() {
    let server = start_redis();
    let url = format!("redis://127.0.0.1:{}", server.port);
    let store = Store::connect(&url).await.unwrap();
    // Lease 3 s, not 2: a lease is `floor(now) + lease` and the reaper takes scores <= floor(now),
    // so the effective lease is between lease - 1 and lease seconds. A 2 s lease with 1 s
    // heartbeats would leave (1 - phase of the heartbeat tick) s of slack, near zero for some
    // pools; 3 s leaves at least 1 s.
    let flags = [
        "worker",
        "--queues",
        "long",
        "--concurrency",
        "1",
        "--lease",
        "3",
        "--heartbeat",
        "1",
        "--reap-interval",
        "1",
    ];
    let mut a = Spawned::start(&url, &flags);
    let mut b = Spawned::start(&url, &flags);
    let id = enqueue(
        &store,
        NewJob::new("long", "taskmill.sleep").args(vec![json!(10)]),
    )
    .await
    .unwrap();
    // Watch the job for its whole run: every execution id a claim ever created, and the lease.
    let mut conn = store.conn();
    let mut executions = BTreeSet::new();
    let mut workers = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let members: Vec<(String, f64)> = conn
            .zrange_withscores(keys::started("long"), 0, -1)
            .await
            .unwrap();
        for (m, score) in &members {
            let (job, x) = keys::parse_started_member(m);
            assert_eq!(job, id);
            executions.insert(x.unwrap_or_default().to_string());
            assert!(
                *score >= engine::time::now().floor(),
                "lease ran out while its worker lived"
            );
        }
        let xs: Vec<String> = conn.zrange(keys::executions(&id), 0, -1).await.unwrap();
        assert!(xs.len() <= 1, "two executions at once: {xs:?}");
        executions.extend(xs);
        let (status, worker): (Option<String>, Option<String>) = redis::pipe()
            .hget(keys::job(&id), "status")
            .hget(keys::job(&id), "worker_name")
            .query_async(&mut conn)
            .await
            .unwrap();
        workers.extend(worker.filter(|w| !w.is_empty()));
        if status.as_deref() == Some("finished") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not finished: {status:?}\n{}\n{}",
            a.logs(),
            b.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        executions.len(),
        1,
        "claimed more than once: {executions:?}"
    );
    assert_eq!(workers.len(), 1, "ran on several workers: {workers:?}");
    let results: u64 = conn.xlen(keys::results(&id)).await.unwrap();
    assert_eq!(results, 1);
    let r = engine::result::fetch(&store, &id).await.unwrap();
    assert_eq!(r[0].kind, engine::model::ResultType::Successful);
    // The one result came from the one execution we saw claimed.
    assert!(executions.contains(r[0].execution_id.as_deref().unwrap_or("?")));
    assert!(a.alive() && b.alive());
    assert!(!a.logs().contains("panicked") && !b.logs().contains("panicked"));
    assert!(a.terminate(15), "{}", a.logs());
    assert!(b.terminate(15), "{}", b.logs());
    drop(server);
}
