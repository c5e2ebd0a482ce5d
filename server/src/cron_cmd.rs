//! `taskmill cron --cron FILE.toml` (a standalone cron scheduler), the `--cron` flag of
//! `taskmill worker`, and `taskmill run-cron NAME`. The file is checked in full before anything
//! starts: a bad expression, time zone or TOML refuses it with the line and the reason (exit 2).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use engine::actions::{Action, Outcome};
use engine::cron::runner::{self, RunnerConfig, SystemClock};
use engine::cron::CronJobDef;
use tokio_util::sync::CancellationToken;

use crate::process::UsageError;

#[derive(Args, Debug, Clone)]
#[command(after_help = "Example:
  taskmill cron --cron cron.toml

cron.toml:
  [jobs.nightly-report]
  func = \"reports.build\"
  queue = \"reports\"
  cron = \"30 2 * * *\"          # or: interval = 300
  timezone = \"Europe/Berlin\"   # optional, default UTC
  args = [1]")]
pub struct CronArgs {
    /// TOML file of cron jobs ([jobs.<name>] func, queue, cron or interval, timezone, args, kwargs)
    #[arg(long = "cron", value_name = "FILE.toml")]
    pub file: PathBuf,
}

/// Reads and checks a cron file; problems are usage errors naming `FILE:line`.
pub fn load(path: &Path) -> Result<Vec<CronJobDef>, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("--cron {}: {e}", path.display())))?;
    engine::cron::config::parse(&text).map_err(|e| {
        UsageError(format!(
            "--cron {}:{}: {}",
            path.display(),
            e.line,
            e.reason
        ))
    })
}

/// Starts the cron loop on the system clock; it stops (and unregisters) when `cancel` fires.
pub fn spawn(
    store: engine::Store,
    path: &Path,
    jobs: Vec<CronJobDef>,
    cancel: CancellationToken,
) -> tokio::task::JoinHandle<engine::Result<u64>> {
    let cfg = RunnerConfig {
        config_file: path.display().to_string(),
        ..RunnerConfig::default()
    };
    tokio::spawn(runner::run(store, jobs, Arc::new(SystemClock), cfg, cancel))
}

pub async fn run(redis: &crate::redis_args::Redis, args: CronArgs) -> anyhow::Result<()> {
    let jobs = load(&args.file)?;
    let store = crate::ops::connect(redis).await?;
    let cancel = CancellationToken::new();
    let task = spawn(store, &args.file, jobs, cancel.clone());
    crate::process::terminate_signal().await;
    tracing::info!("shutting down the cron scheduler");
    cancel.cancel();
    let n = task.await??;
    tracing::info!(enqueued = n, "cron scheduler stopped");
    Ok(())
}

/// `taskmill run-cron NAME`: prints the new job's id.
pub async fn run_now(redis: &crate::redis_args::Redis, name: String) -> anyhow::Result<()> {
    match crate::ops::perform(redis, Action::RunCron { name }).await? {
        Outcome::Enqueued { id } => println!("{id}"),
        other => println!("{}", serde_json::to_string(&other)?),
    }
    Ok(())
}
