//! Fetching from several queues: worker processes SIGKILLed at random (and at the crash point
//! between a blocking pop and its claim) lose no job, the first listed queue goes first, a full
//! pool holds no popped job, and an idle pool sends a small, bounded number of commands.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::enqueue::{enqueue, enqueue_many, NewJob, Retry};
use engine::worker::{Handlers, JobError, PoolConfig};
use engine::{keys, time, Store};
use redis::AsyncCommands;
use serde_json::json;

use super::*;
use crate::support;

const CHILD_ENV: &str = "TASKMILL_FETCH_CHILD";
const PROBE: &str = "test.fetch_probe";

/// A worker process for the SIGKILL test: this test binary started again with only this test
/// selected and `TASKMILL_FETCH_CHILD=<url> <queues> <probe log>`; it runs a pool until killed.
/// The probe appends `S <id>` to the log (one `write(2)`, O_APPEND) before it sleeps, so every
/// start survives a SIGKILL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a worker process started by multi_queue_workers_killed_at_random_lose_no_job"]
async fn fetch_child_worker() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, ' ');
    let (url, queues, log) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let queues: Vec<&str> = queues.split(',').collect();
    let log = Arc::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap(),
    );
    let mut handlers = Handlers::builtin();
    handlers.register(PROBE, move |args, _| {
        let log = log.clone();
        async move {
            let id = args
                .first()
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string();
            let ms = args.get(1).and_then(|v| v.as_u64()).unwrap_or(0);
            (&*log)
                .write_all(format!("S {id}\n").as_bytes())
                .map_err(|e| JobError {
                    traceback: e.to_string(),
                })?;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!(id))
        }
    });
    let store = Store::connect(url).await.unwrap();
    let report = worker::run(store, cfg(&queues, 4, false), handlers, Shutdown::default()).await;
    panic!("a child worker returned: {report:?}");
}

struct Proc {
    child: Child,
    log: PathBuf,
}

/// The worker processes of the SIGKILL test; every one still alive is killed on drop.
struct Fleet {
    url: String,
    queues: String,
    dir: PathBuf,
    next: usize,
    alive: Vec<Proc>,
    /// Probe logs of processes that died by SIGKILL (ours or their own crash point).
    killed_logs: HashSet<PathBuf>,
    self_crashes: usize,
    kills: usize,
}

impl Fleet {
    fn spawn(&mut self, crash_after_pop: Option<f64>) {
        let log = self.dir.join(format!("w{}.log", self.next));
        let err = std::fs::File::create(self.dir.join(format!("w{}.err", self.next))).unwrap();
        self.next += 1;
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "worker::fetch::fetch_child_worker",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{} {} {}", self.url, self.queues, log.display()),
        )
        .env_remove("TASKMILL_CRASH_AFTER_POP")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
        if let Some(p) = crash_after_pop {
            cmd.env("TASKMILL_CRASH_AFTER_POP", p.to_string());
        }
        self.alive.push(Proc {
            child: cmd.spawn().unwrap(),
            log,
        });
    }

    /// Notes processes that died on their own: a SIGKILL from their crash point is expected,
    /// anything else fails the test. Returns how many died.
    fn reap_exited(&mut self) -> usize {
        use std::os::unix::process::ExitStatusExt;
        let mut died = 0;
        let mut i = 0;
        while i < self.alive.len() {
            if let Some(status) = self.alive[i].child.try_wait().unwrap() {
                let p = self.alive.swap_remove(i);
                assert_eq!(
                    status.signal(),
                    Some(libc::SIGKILL),
                    "worker {} exited on its own: {status}",
                    p.log.display()
                );
                self.self_crashes += 1;
                self.killed_logs.insert(p.log);
                died += 1;
            } else {
                i += 1;
            }
        }
        died
    }

    fn kill_random(&mut self) {
        if self.alive.is_empty() {
            return;
        }
        let i = (rand::random::<u64>() % self.alive.len() as u64) as usize;
        let mut p = self.alive.swap_remove(i);
        let _ = p.child.kill();
        let _ = p.child.wait();
        self.kills += 1;
        self.killed_logs.insert(p.log);
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for p in &mut self.alive {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// Every probe start, by job id: which logs it appears in, once per start.
fn starts(dir: &Path) -> HashMap<String, Vec<PathBuf>> {
    let mut out: HashMap<String, Vec<PathBuf>> = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("log") {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            if let Some(id) = line.strip_prefix("S ") {
                out.entry(id.to_string()).or_default().push(path.clone());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_queue_workers_killed_at_random_lose_no_job() {
    let server = support::start_redis();
    let url = server.url(0);
    let store = Store::connect(&url).await.unwrap();
    let queues = ["k1", "k2", "k3"];
    let dir = std::env::temp_dir().join(format!(
        "taskmill-fetch-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut fleet = Fleet {
        url: url.clone(),
        queues: queues.join(","),
        dir: dir.clone(),
        next: 0,
        alive: Vec::new(),
        killed_logs: HashSet::new(),
        self_crashes: 0,
        kills: 0,
    };
    // Three processes of 4 slots; each kills itself at 5 % of its wake-ups between the pop and
    // the claim, and the driver SIGKILLs a random one every 0.3-0.7 s.
    const CRASH: Option<f64> = Some(0.05);
    for _ in 0..3 {
        fleet.spawn(CRASH);
    }
    // Jobs trickle in one at a time over the three queues (so the pools mostly wait and wake,
    // the window under test), 20 ms each, with retries so an abandoned job runs again.
    let n = 400;
    let ids: Vec<String> = (0..n).map(|i| format!("kj{i}")).collect();
    let producer = tokio::spawn({
        let store = store.clone();
        let ids = ids.clone();
        async move {
            for (i, id) in ids.iter().enumerate() {
                let mut j = NewJob::new(queues[i % 3], PROBE)
                    .args(vec![json!(id), json!(20)])
                    .id(id.clone());
                j.retry = Some(Retry {
                    max: 20,
                    intervals: vec![],
                });
                enqueue(&store, j).await.unwrap();
                tokio::time::sleep(Duration::from_millis(8)).await;
            }
        }
    });
    let mut next_kill = Instant::now() + Duration::from_millis(300);
    while !producer.is_finished() {
        tokio::time::sleep(Duration::from_millis(20)).await;
        for _ in 0..fleet.reap_exited() {
            fleet.spawn(CRASH);
        }
        if Instant::now() >= next_kill {
            fleet.kill_random();
            fleet.spawn(CRASH);
            next_kill = Instant::now() + Duration::from_millis(300 + rand::random::<u64>() % 400);
        }
    }
    producer.await.unwrap();
    // Calm from here: replacements without the crash point finish the run.
    for _ in 0..fleet.reap_exited() {
        fleet.spawn(None);
    }
    for _ in 0..2 {
        fleet.spawn(None);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        for _ in 0..fleet.reap_exited() {
            fleet.spawn(None);
        }
        let mut p = redis::pipe();
        for id in &ids {
            p.hget(keys::job(id), "status");
        }
        let st: Vec<Option<String>> = p.query_async(&mut store.conn()).await.unwrap();
        let left = st
            .iter()
            .filter(|s| s.as_deref() != Some("finished"))
            .count();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} of {n} jobs never finished (lost); logs in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Each job finished once (one result entry), and every start beyond one was in a process
    // that was killed (a job in flight there).
    let starts = starts(&dir);
    let mut duplicates = 0;
    for id in &ids {
        let xlen: u64 = store.conn().xlen(keys::results(id)).await.unwrap();
        assert_eq!(xlen, 1, "{id}: result entries");
        let s = starts.get(id).map(Vec::as_slice).unwrap_or_default();
        assert!(!s.is_empty(), "{id} finished without a probe start");
        let in_live = s
            .iter()
            .filter(|log| !fleet.killed_logs.contains(*log))
            .count();
        assert!(
            in_live <= 1,
            "{id} started {in_live} times in processes never killed: {s:?}"
        );
        duplicates += s.len() - 1;
    }
    let mut c = store.conn();
    for q in queues {
        let (queued, inter, wip): (u64, u64, u64) = redis::pipe()
            .llen(keys::queue(q))
            .llen(keys::intermediate(q))
            .zcard(keys::started(q))
            .query_async(&mut c)
            .await
            .unwrap();
        assert_eq!((queued, inter, wip), (0, 0, 0), "{q}: left over");
    }
    eprintln!(
        "multi-queue SIGKILL run: {n} jobs on 3 queues, {} external SIGKILLs, {} crash-point \
         SIGKILLs (after a pop, before its claim), {} processes; lost 0, duplicates {duplicates} \
         (all in killed processes)",
        fleet.kills, fleet.self_crashes, fleet.next
    );
    assert!(
        fleet.self_crashes > 0,
        "the crash point never fired: the pop-to-claim window was not exercised"
    );
    drop(fleet);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn started_at(store: &Store, id: &str) -> f64 {
    time::parse_rq(&field(store, id, "started_at").await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_listed_queue_is_drained_first() {
    let store = support::store().await;
    // Enqueued lowest priority first, so creation order cannot explain the result.
    let mut by_queue: Vec<Vec<String>> = Vec::new();
    for q in ["r3", "r2", "r1"] {
        let jobs = (0..10)
            .map(|i| job(q, "taskmill.echo", vec![json!(i)]))
            .collect();
        by_queue.push(enqueue_many(&store, jobs).await.unwrap());
    }
    by_queue.reverse();
    let report = burst(
        &store,
        cfg(&["r1", "r2", "r3"], 1, true),
        Handlers::builtin(),
    )
    .await;
    assert_eq!(report.succeeded, 30);
    let mut spans = Vec::new();
    for ids in &by_queue {
        let mut t = Vec::new();
        for id in ids {
            t.push(started_at(&store, id).await);
        }
        spans.push((
            t.iter().copied().fold(f64::MAX, f64::min),
            t.iter().copied().fold(0.0, f64::max),
        ));
    }
    for q in 1..spans.len() {
        assert!(
            spans[q].0 >= spans[q - 1].1,
            "queue {q} started before queue {} drained: {spans:?}",
            q - 1
        );
    }

    // A full pool holds no popped job: while its one slot is busy, new jobs stay in their queues
    // (the lanes were unblocked), and when it frees they run in queue order.
    let (h, shutdown) = start(
        &store,
        cfg(&["r1", "r2", "r3"], 1, false),
        Handlers::builtin(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = enqueue(&store, job("r3", "taskmill.sleep", vec![json!(1.0)]))
        .await
        .unwrap();
    let _ = running_worker(&store, &busy).await;
    let mut next = Vec::new();
    for q in ["r3", "r2", "r1"] {
        next.push(
            enqueue(&store, job(q, "taskmill.echo", vec![]))
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c = store.conn();
    for q in ["r1", "r2", "r3"] {
        let (queued, inter): (u64, u64) = redis::pipe()
            .llen(keys::queue(q))
            .llen(keys::intermediate(q))
            .query_async(&mut c)
            .await
            .unwrap();
        assert_eq!((queued, inter), (1, 0), "{q} while the pool is full");
    }
    for id in &next {
        eventually("next jobs finished", 10, || async {
            status(&store, id).await.as_deref() == Some("finished")
        })
        .await;
    }
    let (t3, t2, t1) = (
        started_at(&store, &next[0]).await,
        started_at(&store, &next[1]).await,
        started_at(&store, &next[2]).await,
    );
    assert!(t1 <= t2 && t2 <= t3, "r1 {t1}, r2 {t2}, r3 {t3}");
    shutdown.graceful.cancel();
    h.await.unwrap();
}

/// Calls per command name since the last `CONFIG RESETSTAT` (script-internal commands included).
async fn command_calls(store: &Store) -> HashMap<String, u64> {
    let s: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut store.conn())
        .await
        .unwrap();
    s.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_string(), calls))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_pool_on_three_queues_sends_few_commands_and_wakes_at_once() {
    // A private server: `INFO commandstats` must see this pool only.
    let server = support::start_redis();
    let store = Store::connect(&server.url(0)).await.unwrap();
    let queues = vec!["i1".to_string(), "i2".to_string(), "i3".to_string()];
    let config = PoolConfig {
        queues: queues.clone(),
        concurrency: 4,
        with_scheduler: false,
        ..PoolConfig::default()
    };
    let (h, shutdown) = start(&store, config, Handlers::builtin());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut store.conn())
        .await
        .unwrap();
    let window = 10.0;
    tokio::time::sleep(Duration::from_secs_f64(window)).await;
    let calls = command_calls(&store).await;
    let get = |n: &str| calls.get(n).copied().unwrap_or(0);
    // Our own RESETSTAT and INFO are not the pool's.
    let total: u64 = calls.values().sum::<u64>() - get("config|resetstat") - get("info");
    let rate = total as f64 / window;
    eprintln!(
        "idle pool, 3 queues, default intervals: {rate:.1} commands/s (script-internal \
         included), {} BLMOVE and {} EVALSHA in {window} s; {calls:?}",
        get("blmove"),
        get("evalsha")
    );
    // One BLMOVE per queue per 5 s block, no claim in between (claims LPOP, nothing else does).
    assert!(get("blmove") <= 3 * 3, "BLMOVEs: {calls:?}");
    assert_eq!(get("lpop"), 0, "an idle pool claimed: {calls:?}");
    assert!(rate < 10.0, "{rate} commands/s");

    // A job on the last queue starts at once.
    let id = enqueue(&store, job("i3", "taskmill.echo", vec![]))
        .await
        .unwrap();
    eventually("i3 job finished", 5, || async {
        status(&store, &id).await.as_deref() == Some("finished")
    })
    .await;
    let enq = time::parse_rq(&field(&store, &id, "enqueued_at").await.unwrap()).unwrap();
    let waited = started_at(&store, &id).await - enq;
    assert!(waited < 0.5, "enqueue→start {waited} s on the third queue");

    // Shutdown unblocks every lane at once and leaves nothing behind.
    let t = Instant::now();
    shutdown.graceful.cancel();
    h.await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    for q in &queues {
        let n: u64 = store.conn().llen(keys::intermediate(q)).await.unwrap();
        assert_eq!(n, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_left_in_any_intermediate_list_are_requeued_and_run() {
    // What a process SIGKILLed between a lane's pop and the claim leaves: ids in the
    // intermediate lists of its second and third queues.
    let store = support::store().await;
    let mut c = store.conn();
    let mut stuck = Vec::new();
    for q in ["s2", "s3"] {
        let id = enqueue(&store, job(q, "taskmill.echo", vec![json!(q)]))
            .await
            .unwrap();
        let _: () = c.lrem(keys::queue(q), 1, &id).await.unwrap();
        let _: () = c.rpush(keys::intermediate(q), &id).await.unwrap();
        stuck.push(id);
    }
    let (h, shutdown) = start(
        &store,
        cfg(&["s1", "s2", "s3"], 2, false),
        Handlers::builtin(),
    );
    for id in &stuck {
        eventually("stuck job requeued and run", 15, || async {
            status(&store, id).await.as_deref() == Some("finished")
        })
        .await;
        assert_eq!(raw_results(&store, id).await.len(), 1);
    }
    shutdown.graceful.cancel();
    h.await.unwrap();
}
