//! `taskmill chaos`: a fault-injection run that proves nothing is lost and nothing runs twice
//! except what a crash forces.
//!
//! It enqueues N `taskmill.chaos_probe` jobs (each with `Retry(max)`, so an abandoned job goes
//! back to the queue instead of failing), starts W worker processes (`taskmill chaos-worker` =
//! `taskmill worker` plus the probe, see `probe`), SIGKILLs a random one every `--kill-every`
//! seconds and starts a replacement, until every job is finished or failed. Then `verify`
//! checks each job and the probes' start logs.
//!
//! What is measured, and how:
//! - **In flight at a kill** — read from Redis right after the SIGKILL: the `current_job` of
//!   each of the dead pool's slot hashes (`rq:worker:<pool>.<i>`). A dead process writes
//!   nothing more, and `claim.lua`/`finish.lua` set and clear that field atomically with the
//!   job's state, so this is exactly the set of jobs the dead worker held.
//! - **Recovery** — every 100 ms the driver reads those jobs' `status` and `worker_name`; a job
//!   is recovered once it is no longer `started` by the dead pool (requeued or failed by a
//!   reaper, typically). A kill's recovery time = its slowest job; resolution ~0.1 s.
//! - **Executions** — the probe's own start lines (one file per worker process); duplicates
//!   are starts beyond the first, and each must be a start the dead worker held at its kill.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use engine::enqueue::{enqueue_many, NewJob, Retry};
use engine::{keys, time, Store};
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde_json::json;

use crate::redis_child::die_with_parent;

mod probe;
mod verify;

pub use probe::{run as probe_worker, ProbeWorkerArgs, PROBE_FUNC};
pub use verify::Report;

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:
  taskmill chaos --redis redis://127.0.0.1:6400 --jobs 2000 --kill-every 1
  taskmill chaos --lease 4 --heartbeat 1 --reap-interval 1 --max-recovery 10 --json")]
pub struct ChaosArgs {
    /// Jobs to enqueue
    #[arg(long, default_value_t = 20_000)]
    pub jobs: usize,
    /// Worker processes kept alive
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Slots per worker process
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Seconds between SIGKILLs (fractions allowed)
    #[arg(long, default_value_t = 3.0)]
    pub kill_every: f64,
    #[command(flatten)]
    pub timing: crate::args::LeaseArgs,
    /// How long each job runs, milliseconds
    #[arg(long, default_value_t = 50)]
    pub job_ms: u64,
    /// Retries per job (an abandoned job without retries left fails, as in RQ)
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// Queues to use, in priority order (jobs go round-robin over them; their finished/failed
    /// registries are counted from a baseline); the workers serve them all
    #[arg(long, alias = "queue", value_delimiter = ',', default_value = "chaos")]
    pub queues: Vec<String>,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
    /// Fail the run if a kill's recovery took longer than this many seconds
    #[arg(long)]
    pub max_recovery: Option<f64>,
    /// Keep the probe and worker logs here (default: a temp dir, removed after a clean run)
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

/// One SIGKILL and what the dead worker held at that moment.
#[derive(Debug, Clone)]
pub(crate) struct Kill {
    /// Sequence number of the killed process (its log is `w<seq>.log`).
    pub seq: usize,
    pub at: f64,
    pub pool: Option<String>,
    pub in_flight: Vec<String>,
    /// Job id → time it was seen no longer held by the dead pool.
    pub recovered_at: std::collections::HashMap<String, f64>,
}

pub async fn run(redis: &crate::redis_args::Redis, args: ChaosArgs) -> anyhow::Result<()> {
    check(&args)?;
    let store = redis.connect().await?;
    let (dir, temp) = match &args.log_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!(
                "taskmill-chaos-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            )),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let mut conn = store.conn();
    let base = done_count(&mut conn, &args.queues).await?;
    let ids = enqueue_jobs(&store, &args).await?;
    eprintln!(
        "chaos: {} jobs on queues {:?}; {} workers x {} slots; logs in {}",
        ids.len(),
        args.queues,
        args.workers,
        args.concurrency,
        dir.display()
    );
    let started = Instant::now();
    let mut fleet = Fleet {
        exe: std::env::current_exe().context("current_exe")?,
        redis: redis.to_args().to_vec(),
        dir: dir.clone(),
        args: args.clone(),
        alive: Vec::new(),
        next_seq: 0,
        unexpected_exits: Vec::new(),
    };
    for _ in 0..args.workers {
        fleet.spawn()?;
    }
    let driven = drive(&mut conn, &args, &mut fleet, base, ids.len(), started).await;
    fleet.stop_all().await;
    let (kills, timed_out) = driven?;
    let elapsed = started.elapsed().as_secs_f64();
    let report = verify::verify(
        &store, &args, &ids, &dir, &kills, &fleet, elapsed, timed_out,
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    if !report.ok {
        bail!(
            "chaos run found problems (logs kept in {}): {}",
            dir.display(),
            report.problems.join("; ")
        );
    }
    if temp {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn check(a: &ChaosArgs) -> Result<(), crate::process::UsageError> {
    let bad = |m: &str| Err(crate::process::UsageError(m.to_string()));
    if a.jobs == 0 || a.workers == 0 || a.concurrency == 0 {
        return bad("--jobs, --workers and --concurrency must be at least 1");
    }
    if !(a.kill_every.is_finite() && a.kill_every >= 0.1) {
        return bad("--kill-every must be at least 0.1 seconds");
    }
    a.timing.check()?;
    if a.job_ms > 60_000 {
        return bad("--job-ms must be at most 60000");
    }
    if a.queues.is_empty() {
        return bad("--queues needs at least one queue");
    }
    for q in &a.queues {
        engine::limits::validate_queue_name(q)
            .map_err(|e| crate::process::UsageError(e.to_string()))?;
    }
    Ok(())
}

/// The queue of the `i`th job (round-robin, so every queue gets work).
pub(crate) fn queue_of(a: &ChaosArgs, i: usize) -> &str {
    &a.queues[i % a.queues.len()]
}

async fn enqueue_jobs(store: &Store, a: &ChaosArgs) -> anyhow::Result<Vec<String>> {
    let run = format!("{:08x}", rand::random::<u32>());
    let ids: Vec<String> = (0..a.jobs).map(|i| format!("chaos-{run}-{i}")).collect();
    for (c, chunk) in ids.chunks(1000).enumerate() {
        let jobs = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let mut j = NewJob::new(queue_of(a, c * 1000 + i), PROBE_FUNC)
                    .args(vec![json!(id), json!(a.job_ms)])
                    .id(id.clone());
                j.retry = Some(Retry {
                    max: a.retries,
                    intervals: vec![],
                });
                // Long enough that no finished job expires before it is verified.
                j.result_ttl = Some(86_400);
                j
            })
            .collect();
        enqueue_many(store, jobs).await?;
    }
    Ok(ids)
}

async fn done_count(conn: &mut ConnectionManager, queues: &[String]) -> redis::RedisResult<u64> {
    let mut p = redis::pipe();
    for q in queues {
        p.zcard(keys::finished(q)).zcard(keys::failed(q));
    }
    let counts: Vec<u64> = p.query_async(conn).await?;
    Ok(counts.iter().sum())
}

/// Kills and respawns until every job is done; returns the kills and whether it timed out.
async fn drive(
    conn: &mut ConnectionManager,
    a: &ChaosArgs,
    fleet: &mut Fleet,
    base: u64,
    n: usize,
    started: Instant,
) -> anyhow::Result<(Vec<Kill>, bool)> {
    let every = Duration::from_secs_f64(a.kill_every);
    let deadline = started + Duration::from_secs(a.timeout);
    let mut next_kill = started + every;
    let mut next_progress = started + Duration::from_secs(5);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut kills: Vec<Kill> = Vec::new();
    let mut done = 0u64;
    for round in 0u64.. {
        tick.tick().await;
        fleet.respawn_exited()?;
        let now = Instant::now();
        if done < n as u64 && now >= next_kill {
            let k = fleet.kill_one(conn, &kills).await?;
            kills.push(k);
            next_kill += every;
        }
        track_recoveries(conn, &mut kills).await?;
        if round % 5 == 0 {
            done = done_count(conn, &a.queues).await?.saturating_sub(base);
            let pending = kills
                .iter()
                .any(|k| k.recovered_at.len() < k.in_flight.len());
            if done >= n as u64 && !pending {
                return Ok((kills, false));
            }
        }
        if now >= next_progress {
            eprintln!(
                "chaos: {:>5.0} s  done {done}/{n}  kills {}",
                started.elapsed().as_secs_f64(),
                kills.len()
            );
            next_progress += Duration::from_secs(5);
        }
        if now >= deadline {
            return Ok((kills, true));
        }
    }
    unreachable!("the loop above only ends by returning")
}

/// Marks jobs held by dead pools that are no longer held (requeued, failed, or running elsewhere).
async fn track_recoveries(conn: &mut ConnectionManager, kills: &mut [Kill]) -> anyhow::Result<()> {
    let pending: Vec<(usize, String)> = kills
        .iter()
        .enumerate()
        .flat_map(|(k, kill)| {
            kill.in_flight
                .iter()
                .filter(|j| !kill.recovered_at.contains_key(*j))
                .map(move |j| (k, j.clone()))
        })
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let mut p = redis::pipe();
    for (_, j) in &pending {
        p.cmd("HMGET")
            .arg(keys::job(j))
            .arg("status")
            .arg("worker_name");
    }
    let rows: Vec<(Option<String>, Option<String>)> = p.query_async(conn).await?;
    let t = time::now();
    for ((k, j), (status, worker)) in pending.into_iter().zip(rows) {
        let prefix = format!("{}.", kills[k].pool.as_deref().unwrap_or_default());
        let held =
            status.as_deref() == Some("started") && worker.is_some_and(|w| w.starts_with(&prefix));
        if !held {
            kills[k].recovered_at.insert(j, t);
        }
    }
    Ok(())
}

struct Proc {
    seq: usize,
    child: Child,
}

/// The worker processes of a run.
pub(crate) struct Fleet {
    exe: PathBuf,
    /// The connection flags, for each child.
    redis: Vec<String>,
    dir: PathBuf,
    args: ChaosArgs,
    alive: Vec<Proc>,
    next_seq: usize,
    /// Processes that exited without being killed: (seq, exit status).
    pub unexpected_exits: Vec<(usize, String)>,
}

impl Fleet {
    /// Number of processes started so far (logs `w0.log` .. `w<n-1>.log`).
    pub fn spawned(&self) -> usize {
        self.next_seq
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let seq = self.next_seq;
        let a = &self.args;
        let err = std::fs::File::create(self.dir.join(format!("w{seq}.err")))?;
        let mut cmd = Command::new(&self.exe);
        cmd.args(&self.redis)
            .args(["chaos-worker", "--probe-log"])
            .arg(self.dir.join(format!("w{seq}.log")))
            .args(["--queues", &a.queues.join(",")])
            .args(["--concurrency", &a.concurrency.to_string()])
            .args(a.timing.to_args())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err);
        die_with_parent(&mut cmd);
        let child = cmd.spawn().context("spawn chaos-worker")?;
        self.alive.push(Proc { seq, child });
        self.next_seq += 1;
        Ok(())
    }

    /// A worker that died on its own is a finding: record it and keep the fleet size.
    fn respawn_exited(&mut self) -> anyhow::Result<()> {
        let mut i = 0;
        while i < self.alive.len() {
            if let Some(status) = self.alive[i].child.try_wait()? {
                let p = self.alive.swap_remove(i);
                self.unexpected_exits.push((p.seq, status.to_string()));
                self.spawn()?;
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    async fn kill_one(
        &mut self,
        conn: &mut ConnectionManager,
        earlier: &[Kill],
    ) -> anyhow::Result<Kill> {
        let i = (rand::random::<u64>() % self.alive.len() as u64) as usize;
        let mut p = self.alive.swap_remove(i);
        let pid = p.child.id();
        p.child.kill()?;
        p.child.wait()?;
        let at = time::now();
        self.spawn()?;
        let taken: Vec<&str> = earlier.iter().filter_map(|k| k.pool.as_deref()).collect();
        let pools: Vec<String> = conn.smembers(keys::POOLS).await?;
        // Pool id = <hostname>.<pid>.<8 hex>; a pid can repeat over a long run, an id cannot.
        let pool = pools.into_iter().find(|id| {
            id.rsplit('.').nth(1) == Some(pid.to_string().as_str()) && !taken.contains(&id.as_str())
        });
        let mut in_flight = Vec::new();
        if let Some(pool) = &pool {
            let mut q = redis::pipe();
            for slot in 0..self.args.concurrency {
                q.hget(keys::worker(&format!("{pool}.{slot}")), "current_job");
            }
            let jobs: Vec<Option<String>> = q.query_async(conn).await?;
            in_flight = jobs.into_iter().flatten().collect();
        }
        Ok(Kill {
            seq: p.seq,
            at,
            pool,
            in_flight,
            recovered_at: Default::default(),
        })
    }

    /// SIGTERM (graceful) to every live worker; SIGKILL whatever is left after 20 s.
    async fn stop_all(&mut self) {
        for p in &self.alive {
            // SAFETY: kill(2) on our own child's pid; no memory is touched.
            unsafe {
                libc::kill(p.child.id() as i32, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline
            && self
                .alive
                .iter_mut()
                .any(|p| matches!(p.child.try_wait(), Ok(None)))
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for p in &mut self.alive {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        self.alive.clear();
    }
}
