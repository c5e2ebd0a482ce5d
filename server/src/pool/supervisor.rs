//! The supervisor loop: keeps `desired` children running (argv, no shell, so each child's pid is
//! the Python worker's own pid and its `rq:worker:*` hash can be matched to it), restarts crashed
//! ones after a back-off, stops extras gracefully, adopts each child's RQ worker, refreshes the
//! pool record, listens for `scale` on the pool's channel, and autoscales when asked.

use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use engine::command::Command as PoolCommand;
use engine::pypool::{self, PoolRecord};
use engine::{keys, Store};

use super::policy::Backoff;
use super::PoolConfig;

/// Loop period: how fast a crash, a scale command or a stop is acted on.
const TICK: Duration = Duration::from_millis(200);
/// Record refresh and autoscale period.
const REFRESH: Duration = Duration::from_secs(5);
/// How often to look for the RQ worker of a child not matched yet (a Python worker needs about
/// a second to register).
const ADOPT_EVERY: Duration = Duration::from_secs(1);

struct Proc {
    child: Child,
    pid: u32,
    started: Instant,
    worker: Option<String>,
    /// SIGTERM sent; SIGKILL at this instant.
    kill_at: Option<Instant>,
}

pub async fn run(store: Store, cfg: PoolConfig, cancel: CancellationToken) -> anyhow::Result<()> {
    let hostname = pypool::hostname();
    let pool_id = format!(
        "{hostname}.{}.{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let (tx, mut rx) = mpsc::channel::<u64>(16);
    let listener = tokio::spawn(listen(store.clone(), pool_id.clone(), tx, cancel.clone()));
    let mut record = PoolRecord {
        pool_id: pool_id.clone(),
        command: cfg.command.clone(),
        min: cfg.min,
        max: cfg.max,
        desired: cfg.start,
        actual: 0,
        autoscale: cfg
            .autoscale
            .as_ref()
            .map(|a| a.describe())
            .unwrap_or_default(),
        queues: cfg.queues.clone(),
        hostname: hostname.clone(),
        pid: std::process::id(),
        birth: engine::time::now(),
    };
    info!(pool = %pool_id, command = %cfg.command, processes = cfg.start, "pool starting");
    let mut procs: Vec<Proc> = Vec::new();
    let mut backoff = Backoff::default();
    let mut next_spawn = Instant::now();
    let mut last_refresh: Option<Instant> = None;
    let mut last_change = Instant::now();
    let mut last_adopt: Option<Instant> = None;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            Some(n) = rx.recv() => {
                let n = n.clamp(cfg.min, cfg.max);
                info!(pool = %pool_id, from = record.desired, to = n, "scale");
                record.desired = n;
                last_change = Instant::now();
            }
            _ = tick.tick() => {}
        }
        let now = Instant::now();
        // Exits: a child we did not stop crashed.
        let mut i = 0;
        while i < procs.len() {
            match procs[i].child.try_wait() {
                Ok(Some(status)) => {
                    let p = procs.swap_remove(i);
                    if p.kill_at.is_none() {
                        let delay = backoff.crashed(p.started.elapsed());
                        warn!(pid = p.pid, %status, restart_in = ?delay, "child exited; restarting after back-off");
                        next_spawn = next_spawn.max(now + delay);
                    }
                }
                Ok(None) => i += 1,
                Err(e) => {
                    warn!(pid = procs[i].pid, error = %e, "cannot poll child");
                    i += 1;
                }
            }
        }
        for p in procs.iter_mut() {
            if p.kill_at.is_some_and(|t| now >= t) {
                let _ = p.child.start_kill();
            }
        }
        let running = procs.iter().filter(|p| p.kill_at.is_none()).count() as u64;
        if running < record.desired && now >= next_spawn {
            // After a crash, one at a time; otherwise all that are missing.
            let n = if backoff.streak > 0 {
                1
            } else {
                record.desired - running
            };
            for _ in 0..n {
                match spawn(&cfg.argv) {
                    Ok(p) => {
                        info!(pid = p.pid, "child started");
                        procs.push(p);
                    }
                    Err(e) => {
                        let delay = backoff.crashed(Duration::ZERO);
                        warn!(error = %e, restart_in = ?delay, "cannot start the command");
                        next_spawn = now + delay;
                        break;
                    }
                }
            }
        } else if running > record.desired {
            // Newest first: the oldest children are the warmest.
            let extra = (running - record.desired) as usize;
            let mut live: Vec<&mut Proc> =
                procs.iter_mut().filter(|p| p.kill_at.is_none()).collect();
            live.sort_by_key(|p| std::cmp::Reverse(p.started));
            for p in live.into_iter().take(extra) {
                terminate(p.pid);
                p.kill_at = Some(now + cfg.stop_timeout);
            }
        }
        let actual = procs.iter().filter(|p| p.kill_at.is_none()).count() as u64;
        let due = last_refresh.is_none_or(|t| now.duration_since(t) >= REFRESH);
        let adopt_due = last_adopt.is_none_or(|t| now.duration_since(t) >= ADOPT_EVERY);
        if adopt_due
            && procs
                .iter()
                .any(|p| p.worker.is_none() && p.kill_at.is_none())
        {
            last_adopt = Some(now);
            adopt(&store, &pool_id, &hostname, &mut procs).await;
        }
        if due {
            if let Some(a) = &cfg.autoscale {
                if now.duration_since(last_change) >= cfg.cooldown {
                    match pypool::pressure(&store, &cfg.queues, engine::time::now()).await {
                        Ok((depth, oldest)) => {
                            let want = a.target(record.desired, depth, oldest, cfg.min, cfg.max);
                            if want != record.desired {
                                info!(pool = %pool_id, depth, oldest, from = record.desired, to = want, "autoscale");
                                record.desired = want;
                                last_change = now;
                            }
                        }
                        Err(e) => warn!(error = %e, "autoscale: cannot read the queues"),
                    }
                }
            }
        }
        if due || actual != record.actual {
            record.actual = actual;
            match pypool::save(&store, &record).await {
                Ok(()) => last_refresh = Some(now),
                Err(e) => warn!(error = %e, "cannot refresh the pool record"),
            }
        }
    }
    listener.abort();
    stop_all(&mut procs, cfg.stop_timeout).await;
    if let Err(e) = pypool::remove(&store, &pool_id).await {
        warn!(error = %e, "could not remove the pool record (it expires in 60 s)");
    }
    info!(pool = %pool_id, "pool stopped");
    Ok(())
}

fn spawn(argv: &[String]) -> std::io::Result<Proc> {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).stdin(std::process::Stdio::null());
    die_with_parent(&mut cmd);
    let child = cmd.spawn()?;
    let pid = child.id().unwrap_or(0);
    Ok(Proc {
        child,
        pid,
        started: Instant::now(),
        worker: None,
        kill_at: None,
    })
}

/// If the supervisor is SIGKILLed, its children get SIGTERM (RQ's warm shutdown) instead of
/// running on unsupervised.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

fn terminate(pid: u32) {
    if pid > 0 {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        }
    }
}

/// SIGTERM to every child, wait up to `timeout`, SIGKILL the rest, reap all.
async fn stop_all(procs: &mut Vec<Proc>, timeout: Duration) {
    for p in procs.iter() {
        terminate(p.pid);
    }
    let deadline = Instant::now() + timeout;
    while !procs.is_empty() && Instant::now() < deadline {
        procs.retain_mut(|p| !matches!(p.child.try_wait(), Ok(Some(_))));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for p in procs.iter_mut() {
        warn!(pid = p.pid, "child did not stop in time; SIGKILL");
        let _ = p.child.kill().await;
    }
    procs.clear();
}

/// Finds the RQ worker of each child not matched yet and marks it as the pool's.
async fn adopt(store: &Store, pool_id: &str, hostname: &str, procs: &mut [Proc]) {
    let pids: Vec<u32> = procs
        .iter()
        .filter(|p| p.worker.is_none())
        .map(|p| p.pid)
        .collect();
    let found = match pypool::unmatched_children(store, hostname, &pids).await {
        Ok(f) => f,
        Err(e) => {
            warn!(error = %e, "cannot look for the children's workers");
            return;
        }
    };
    for (name, pid) in found {
        match pypool::adopt(store, pool_id, &name, pid, hostname).await {
            Ok(true) => {
                if let Some(p) = procs.iter_mut().find(|p| p.pid == pid) {
                    info!(pid, worker = %name, "child registered as an RQ worker");
                    p.worker = Some(name);
                }
            }
            Ok(false) => {}
            Err(e) => warn!(error = %e, "cannot adopt a child's worker"),
        }
    }
}

/// Subscribes to the pool's command channel; `scale` goes to the loop. Reconnects with back-off.
async fn listen(store: Store, pool_id: String, tx: mpsc::Sender<u64>, cancel: CancellationToken) {
    let chan = keys::pool_commands(&pool_id);
    let mut delay = Duration::from_millis(100);
    while !cancel.is_cancelled() {
        let mut ps = match store.client().get_async_pubsub().await {
            Ok(ps) => ps,
            Err(e) => {
                warn!(error = %e, "pool: pub/sub connect failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(e) = ps.subscribe(&chan).await {
            warn!(error = %e, "pool: subscribe failed; retrying");
            tokio::time::sleep(delay).await;
            continue;
        }
        delay = Duration::from_millis(100);
        let mut stream = ps.on_message();
        while let Some(msg) = stream.next().await {
            if let Some(PoolCommand::Scale { slots }) = PoolCommand::parse(msg.get_payload_bytes())
            {
                let _ = tx.send(slots).await;
            }
        }
        warn!("pool: pub/sub connection lost; reconnecting");
    }
}
