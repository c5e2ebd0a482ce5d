//! `taskmill pool --command "rq worker ..." --min 1 --max 8`: supervises that many Python
//! processes. Crashed children are restarted with back-off; `scale` (console, API,
//! `taskmill scale`) and the optional autoscaler change the count live; SIGTERM/SIGINT stops the
//! children gracefully (SIGTERM — RQ's warm shutdown — then SIGKILL after `--stop-timeout`).
//!
//! - `policy`     — back-off, autoscale decisions, queues of an `rq worker` argv (pure).
//! - `supervisor` — the children and the loop.
//!
//! The Redis half (record, adoption of children by pid + hostname, the command channel) is
//! `engine::pypool`.

pub mod policy;
pub mod supervisor;

use std::time::Duration;

use clap::Args;

use crate::process::UsageError;
use policy::Autoscale;

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:
  taskmill pool --command \"rq worker -u $REDIS_URL high default\" --min 1 --max 8
  taskmill pool --command \".venv/bin/rq worker reports\" --min 2 --max 10 --autoscale latency=30s --cooldown 60")]
pub struct PoolArgs {
    /// The worker command, split like a shell would (quotes, no expansion); each process runs it
    #[arg(long, value_name = "COMMAND")]
    pub command: String,
    /// Fewest processes (scale and autoscale never go below)
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min: u64,
    /// Most processes, at most 256
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub max: u64,
    /// Processes at start [default: --min]
    #[arg(long, value_name = "N")]
    pub processes: Option<u64>,
    /// Scale on the queues' oldest job age (`latency=30s`) or backlog per process (`depth=N`)
    #[arg(long, value_name = "latency=30s|depth=N")]
    pub autoscale: Option<String>,
    /// Seconds between autoscale changes (also after a manual scale)
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub cooldown: u64,
    /// Queues the workers serve (for autoscale); default: the `rq worker` command's queues
    #[arg(long, value_delimiter = ',', value_name = "Q,Q")]
    pub queues: Vec<String>,
    /// Seconds a child gets to finish its job after SIGTERM before SIGKILL
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub stop_timeout: u64,
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    pub command: String,
    pub argv: Vec<String>,
    pub min: u64,
    pub max: u64,
    pub start: u64,
    pub autoscale: Option<Autoscale>,
    pub cooldown: Duration,
    pub queues: Vec<String>,
    pub stop_timeout: Duration,
}

impl PoolArgs {
    pub fn config(&self) -> Result<PoolConfig, UsageError> {
        let argv =
            shell_words::split(&self.command).map_err(|e| UsageError(format!("--command: {e}")))?;
        if argv.is_empty() {
            return Err(UsageError("--command is empty".into()));
        }
        let max_ok = engine::limits::MAX_SLOTS;
        if self.min == 0 || self.min > self.max || self.max > max_ok {
            return Err(UsageError(format!(
                "--min {} / --max {}: need 1 <= min <= max <= {max_ok}",
                self.min, self.max
            )));
        }
        let start = self.processes.unwrap_or(self.min);
        if !(self.min..=self.max).contains(&start) {
            return Err(UsageError(format!(
                "--processes {start} is outside --min {} / --max {}",
                self.min, self.max
            )));
        }
        let autoscale = self
            .autoscale
            .as_deref()
            .map(Autoscale::parse)
            .transpose()
            .map_err(UsageError)?;
        let queues = if self.queues.is_empty() {
            policy::queues_of(&argv)
        } else {
            self.queues.clone()
        };
        for q in &queues {
            engine::limits::validate_queue_name(q).map_err(|e| UsageError(e.to_string()))?;
        }
        if autoscale.is_some() && queues.is_empty() {
            return Err(UsageError(
                "--autoscale needs the queues: pass --queues (the command is not `rq worker Q...`)"
                    .into(),
            ));
        }
        Ok(PoolConfig {
            command: self.command.clone(),
            argv,
            min: self.min,
            max: self.max,
            start,
            autoscale,
            cooldown: Duration::from_secs(self.cooldown),
            queues,
            stop_timeout: Duration::from_secs(self.stop_timeout),
        })
    }
}

pub async fn run(redis: &crate::redis_args::Redis, args: PoolArgs) -> anyhow::Result<()> {
    let cfg = args.config()?;
    let store = crate::ops::connect(redis).await?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    let signals = tokio::spawn(async move {
        crate::process::terminate_signal().await;
        tracing::info!("stopping the pool: SIGTERM to every child");
        stop.cancel();
    });
    let r = supervisor::run(store, cfg, cancel).await;
    signals.abort();
    r
}
