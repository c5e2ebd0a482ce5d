//! The command line (clap derive). Every subcommand takes the global `--redis` (env
//! `REDIS_URL`). Exit codes: 0 ok, 1 runtime error, 2 usage error (clap's own errors are 2 too).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use engine::actions::Action;

use crate::process::DEFAULT_REDIS;
use crate::{chaos, cron_cmd, demo, info, ops, pool, serve, worker_cmd};

#[derive(Parser, Debug)]
#[command(
    name = "taskmill",
    version,
    about = "RQ-compatible job queue: console, worker, CLI"
)]
pub struct Cli {
    /// Redis URL [default: redis://127.0.0.1:6379]
    #[arg(long, global = true, env = "REDIS_URL", value_name = "URL")]
    pub redis: Option<String>,
    /// `--redis` was typed on the command line (not taken from `REDIS_URL`).
    #[arg(skip)]
    pub redis_flag: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

impl Cli {
    pub fn redis_url(&self) -> String {
        self.redis
            .clone()
            .unwrap_or_else(|| DEFAULT_REDIS.to_string())
    }
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Serve the web console, the JSON API and /metrics
    Serve(serve::ServeArgs),
    /// Run a worker pool
    Worker(worker_cmd::WorkerArgs),
    /// Console + worker + traffic on a private Redis, in one command
    Demo(demo::DemoArgs),
    /// Print queues and workers (read-only)
    Info(info::InfoArgs),
    /// Enqueue a job; prints its id
    Enqueue(ops::EnqueueArgs),
    /// Show one job
    Job(ops::JobArgs),
    /// Requeue failed jobs; prints how many
    Requeue(ops::RequeueArgs),
    /// Stop a running job
    #[command(after_help = "Example:\n  taskmill stop 4f0c2a0e-8d1b-4c55-9a57-0d4b1f2e3c4d")]
    Stop {
        /// The running job's id
        id: String,
    },
    /// Cancel queued, deferred or scheduled jobs
    #[command(after_help = "Example:\n  taskmill cancel job-1 job-2")]
    Cancel {
        /// Job ids (at most 1000)
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Delete jobs and all their keys
    #[command(after_help = "Example:\n  taskmill delete job-1 job-2")]
    Delete {
        /// Job ids (at most 1000)
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Suspend all workers
    #[command(after_help = "Examples:\n  taskmill suspend\n  taskmill suspend --duration 600")]
    Suspend {
        /// Seconds (at most a year); until `taskmill resume` when omitted
        #[arg(long, value_name = "SECS")]
        duration: Option<u64>,
    },
    /// Resume suspended workers
    #[command(after_help = "Example:\n  taskmill resume")]
    Resume,
    /// Set a pool's size: a Taskmill worker's slots, or a `taskmill pool`'s Python processes
    #[command(
        after_help = "Example (any slot name of the pool, as `taskmill info` lists it):\n  taskmill scale web-1.4242.9f3a1c2b.0 8\n  taskmill scale web-1.5151.0a1b2c3d 3   (a `taskmill pool` id, or any of its rq workers)"
    )]
    Scale {
        /// A slot of a `taskmill worker`, a `taskmill pool` id or one of its rq workers (a plain rq worker cannot be scaled)
        worker: String,
        /// The new size: 1 to 256 slots, or within the pool's --min / --max
        slots: u64,
    },
    /// Ask a worker to shut down gracefully
    #[command(after_help = "Example:\n  taskmill shutdown web-1.4242.9f3a1c2b.0")]
    Shutdown {
        /// Worker name (for a Taskmill pool, any slot stops the whole process)
        worker: String,
    },
    /// Fault injection: SIGKILL workers mid-run, then prove nothing was lost or run twice
    Chaos(chaos::ChaosArgs),
    /// `taskmill worker` plus the chaos probe handler (spawned by `taskmill chaos`)
    #[command(hide = true)]
    ChaosWorker(chaos::ProbeWorkerArgs),
    /// Run the cron jobs of a TOML file (exactly once per tick however many run the same file)
    Cron(cron_cmd::CronArgs),
    /// Enqueue a cron job's job now (any scheduler's, Taskmill's or `rq cron`'s); prints its id
    #[command(after_help = "Example:\n  taskmill run-cron nightly-report")]
    RunCron {
        /// The cron job's name (`[jobs.<name>]`, or RQ's `name` / function name)
        name: String,
    },
    /// Supervise N Python worker processes (restart, scale, autoscale)
    Pool(pool::PoolArgs),
}

pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    cli.redis_flag = matches!(
        matches.value_source("redis"),
        Some(clap::parser::ValueSource::CommandLine)
    );
    init_tracing(&cli.cmd);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if crate::process::is_usage_error(&e) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn init_tracing(cmd: &Cmd) {
    use tracing_subscriber::EnvFilter;
    // Long-running commands log their progress; one-shot commands only warnings, so their
    // stdout stays machine-readable.
    let default = match cmd {
        Cmd::Serve(_)
        | Cmd::Worker(_)
        | Cmd::Demo(_)
        | Cmd::ChaosWorker(_)
        | Cmd::Cron(_)
        | Cmd::Pool(_) => "info",
        _ => "warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.redis_url();
    let typed = cli.redis.clone().filter(|_| cli.redis_flag);
    match cli.cmd {
        Cmd::Serve(a) => serve::run(&url, a).await,
        Cmd::Worker(a) => worker_cmd::run(&url, a).await,
        Cmd::Demo(a) => demo::run(typed, a).await,
        Cmd::Info(a) => info::run(&url, a).await,
        Cmd::Enqueue(a) => ops::enqueue(&url, a).await,
        Cmd::Job(a) => ops::job(&url, a).await,
        Cmd::Requeue(a) => ops::requeue(&url, a).await,
        Cmd::Stop { id } => ops::stop(&url, &id).await,
        Cmd::Cancel { ids } => ops::jobs(&url, Action::Cancel { ids }).await,
        Cmd::Delete { ids } => ops::jobs(&url, Action::Delete { ids }).await,
        Cmd::Suspend { duration } => ops::suspend(&url, duration).await,
        Cmd::Resume => ops::resume(&url).await,
        Cmd::Scale { worker, slots } => ops::command(&url, Action::Scale { worker, slots }).await,
        Cmd::Shutdown { worker } => ops::command(&url, Action::Shutdown { worker }).await,
        Cmd::Chaos(a) => chaos::run(&url, a).await,
        Cmd::ChaosWorker(a) => chaos::probe_worker(&url, a).await,
        Cmd::Cron(a) => cron_cmd::run(&url, a).await,
        Cmd::RunCron { name } => cron_cmd::run_now(&url, name).await,
        Cmd::Pool(a) => pool::run(&url, a).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks (unique names, valid defaults) over every subcommand, and
    /// help text on every flag and argument, with an example in every subcommand's help.
    #[test]
    fn every_flag_has_help_and_every_subcommand_an_example() {
        let cmd = super::Cli::command();
        cmd.clone().debug_assert();
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = sub.get_name();
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(after.contains("taskmill "), "{name}: no example in --help");
            for arg in sub.get_arguments() {
                assert!(
                    arg.get_help().is_some() || arg.get_long_help().is_some(),
                    "{name}: --{} has no help text",
                    arg.get_id()
                );
            }
        }
    }
}
