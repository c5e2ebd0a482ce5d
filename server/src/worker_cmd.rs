//! `taskmill worker`: one process running a pool of slots. The first SIGTERM/SIGINT stops
//! fetching and drains running jobs (up to `--drain-timeout`); a second one stops them now.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use engine::worker::{self, Handlers, PoolConfig, Shutdown};

use crate::args::LeaseArgs;
use crate::process::UsageError;

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:
  taskmill worker --queues high,default,low --concurrency 8
  taskmill worker --queues reports --handlers handlers.toml --burst
  taskmill worker --queues llm --limits limits.toml
  taskmill worker -u redis+sentinel://10.0.0.5:26379,10.0.0.6:26379/mymaster --queues default
  TASKMILL_QUEUES=high,low taskmill worker --config taskmill.toml")]
pub struct WorkerArgs {
    /// Queues to work on, in priority order
    #[arg(long, value_delimiter = ',', required = true, value_name = "Q,Q")]
    pub queues: Vec<String>,
    /// Jobs run at once (slots), 1 to 256; changeable live with `taskmill scale`
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
    /// Exit once the queues are empty
    #[arg(long)]
    pub burst: bool,
    /// TOML file declaring exec handlers (child processes, JSON on stdin/stdout)
    #[arg(long, value_name = "FILE.toml")]
    pub handlers: Option<PathBuf>,
    /// Do not run the scheduler (scheduled jobs are then moved by another worker)
    #[arg(long)]
    pub no_scheduler: bool,
    #[command(flatten)]
    pub timing: LeaseArgs,
    /// Seconds to wait for running jobs on shutdown
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub drain_timeout: u64,
    /// TOML file of fleet-wide concurrency / rate limits per function and queue
    /// (`[functions."llm.summarize"] concurrency = 2, rate = "60/m"`; `[queues.reports]`)
    #[arg(long, value_name = "FILE.toml")]
    pub limits: Option<PathBuf>,
    /// Also run the cron jobs of this TOML file (same format as `taskmill cron --cron`)
    #[arg(long = "cron", value_name = "FILE.toml")]
    pub cron: Option<PathBuf>,
}

impl WorkerArgs {
    pub fn pool_config(&self) -> Result<PoolConfig, UsageError> {
        for q in &self.queues {
            engine::limits::validate_queue_name(q).map_err(|e| UsageError(e.to_string()))?;
        }
        engine::limits::validate_slots(self.concurrency as u64)
            .map_err(|e| UsageError(format!("--concurrency: {e}")))?;
        self.timing.check()?;
        Ok(PoolConfig {
            queues: self.queues.clone(),
            concurrency: self.concurrency,
            burst: self.burst,
            with_scheduler: !self.no_scheduler,
            heartbeat_interval: Duration::from_secs(self.timing.heartbeat),
            lease: Duration::from_secs(self.timing.lease),
            reap_interval: Duration::from_secs(self.timing.reap_interval),
            drain_timeout: Duration::from_secs(self.drain_timeout),
        })
    }
}

/// The limits of `--limits FILE.toml`, or none. A bad file is a usage error (exit 2) naming
/// the file, the line and the reason.
pub fn limits(file: Option<&std::path::Path>) -> anyhow::Result<engine::throttle::Limits> {
    let Some(path) = file else {
        return Ok(engine::throttle::Limits::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    engine::throttle::parse(&text)
        .map_err(|e| UsageError(format!("{}: {e}", path.display())).into())
}

/// The built-in handlers plus, if given, the exec handlers of a TOML file.
pub fn handlers(file: Option<&std::path::Path>) -> anyhow::Result<Handlers> {
    let mut h = Handlers::builtin();
    if let Some(path) = file {
        let exec = Handlers::load_exec_toml(path)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        h.extend(exec);
    }
    Ok(h)
}

pub async fn run(redis: &crate::redis_args::Redis, args: WorkerArgs) -> anyhow::Result<()> {
    let config = args.pool_config()?;
    let handlers = handlers(args.handlers.as_deref())?;
    let limits = limits(args.limits.as_deref())?;
    let cron_jobs = match &args.cron {
        Some(path) => Some((path.clone(), crate::cron_cmd::load(path)?)),
        None => None,
    };
    let store = redis.connect().await?;
    let shutdown = Shutdown::default();
    let signals = tokio::spawn(two_stage_signals(shutdown.clone()));
    // The cron loop stops with the first signal, when the worker stops fetching.
    let cron = cron_jobs.map(|(path, jobs)| {
        crate::cron_cmd::spawn(store.clone(), &path, jobs, shutdown.graceful.clone())
    });
    tracing::info!(queues = ?config.queues, concurrency = config.concurrency, "worker starting");
    let graceful = shutdown.graceful.clone();
    let report = worker::run_limited(store, config, handlers, shutdown, limits).await;
    signals.abort();
    if let Some(cron) = cron {
        graceful.cancel();
        let _ = cron.await;
    }
    let report = report?;
    tracing::info!(
        succeeded = report.succeeded,
        failed = report.failed,
        "worker stopped"
    );
    Ok(())
}

/// First signal → graceful, second → immediate.
pub async fn two_stage_signals(shutdown: Shutdown) {
    crate::process::terminate_signal().await;
    tracing::info!("shutting down: draining running jobs (signal again to stop them now)");
    shutdown.graceful.cancel();
    crate::process::terminate_signal().await;
    tracing::warn!("second signal: stopping running jobs now");
    shutdown.immediate.cancel();
}
