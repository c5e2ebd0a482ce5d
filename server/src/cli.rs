//! The command line (clap derive). Every subcommand takes the global connection flags
//! (`redis_args`), `--config FILE` and `--log-format`; every flag also reads `TASKMILL_<FLAG>`
//! and a `taskmill.toml` key (`config`). Precedence: command line > environment > config file
//! > default. Exit codes: 0 ok, 1 runtime error, 2 usage error (clap's own errors are 2 too).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use engine::actions::Action;

use crate::process::UsageError;
use crate::redis_args::{Redis, RedisArgs, URL_ENV};
use crate::{chaos, chord_cmd, cron_cmd, demo, info, ops, pool, serve, worker_cmd};

#[derive(Parser, Debug)]
#[command(
    name = "taskmill",
    version,
    about = "RQ-compatible job queue: console, worker, CLI",
    after_help = "Every flag also reads TASKMILL_<FLAG> (e.g. TASKMILL_LOG_FORMAT=json) and a key of \
the --config file. Precedence: command line > environment > config file > default.

Examples:
  taskmill serve -u rediss://default:pw@redis.example.com:6380 --redis-ca ca.pem
  taskmill --config taskmill.toml worker --queues default"
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: RedisArgs,
    /// Configuration file (TOML): top-level keys are these global flags, a [serve], [worker],
    /// ... table per subcommand holds its flags
    #[arg(long, global = true, value_name = "FILE", help_heading = "Global")]
    pub config: Option<PathBuf>,
    /// Log line format on stderr (text has colour only on a terminal)
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = LogFormat::Text,
        help_heading = "Global"
    )]
    pub log_format: LogFormat,
    /// `--redis` was typed on the command line (not taken from the environment or the file).
    #[arg(skip)]
    pub redis_flag: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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
    /// Chords: a group of jobs plus a callback enqueued once every member has ended
    Chord(chord_cmd::ChordArgs),
    /// `taskmill worker` plus the chaos probe handler (spawned by `taskmill chaos`)
    #[command(hide = true)]
    ChaosWorker(chaos::ProbeWorkerArgs),
    /// Print an argon2id hash of the password on stdin, for [[serve.users]] in taskmill.toml
    #[command(
        after_help = "Example:\n  printf '%s' 's3cret' | taskmill hash-password\n\nThen in taskmill.toml:\n  [[serve.users]]\n  name = \"alice\"\n  password_hash = \"$argon2id$v=19$...\""
    )]
    HashPassword,
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

/// The full command: the derive plus `TASKMILL_<FLAG>` on every flag.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    crate::config::with_env(Cli::command())
}

/// Parses the command line, the environment and the config file, in that precedence.
pub fn parse(argv: Vec<OsString>) -> Result<(Cli, crate::config::FileConfig), anyhow::Error> {
    use clap::FromArgMatches;
    let cmd = command();
    // A first, lenient pass finds --config and what the user gave; a flag the file provides
    // may be a required one (`[worker] queues`), so only the final pass is strict.
    let mut full = argv.clone();
    let mut file = crate::config::FileConfig::default();
    if let Ok(first) = cmd.clone().ignore_errors(true).try_get_matches_from(&argv) {
        let sub = first.subcommand().map(|(_, m)| m);
        let config = [Some(&first), sub]
            .into_iter()
            .flatten()
            .find_map(|m| m.try_get_one::<PathBuf>("config").ok().flatten().cloned());
        if let Some(path) = config {
            let (f, extra) = crate::config::load(&path, &cmd, &first)?;
            file = f;
            // Inserted before a `--`, if any, so they stay flags.
            let at = full.iter().position(|a| a == "--").unwrap_or(full.len());
            full.splice(at..at, extra);
        }
    }
    let matches = cmd.try_get_matches_from(&full)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let sub = matches.subcommand().map(|(_, m)| m);
    cli.redis_flag = [Some(&matches), sub].into_iter().flatten().any(|m| {
        matches!(
            m.value_source("redis"),
            Some(clap::parser::ValueSource::CommandLine)
        )
    });
    Ok((cli, file))
}

pub fn main() -> ExitCode {
    let (mut cli, file) = match parse(std::env::args_os().collect()) {
        Ok(p) => p,
        Err(e) => match e.downcast::<clap::Error>() {
            Ok(e) => e.exit(),
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::from(2);
            }
        },
    };
    if let Cmd::Serve(a) = &mut cli.cmd {
        a.file_users = file.users.clone();
    }
    init_tracing(&cli.cmd, cli.log_format);
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
    match runtime.block_on(run(cli, file)) {
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

fn init_tracing(cmd: &Cmd, format: LogFormat) {
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
        // Colour codes only where a person reads them: not in files, pipes or journald.
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}

/// The Redis URLs' sources, first wins: the flag, the environment (`URL_ENV`), the file.
fn redis_urls(conn: &RedisArgs, file: &crate::config::FileConfig) -> Vec<String> {
    if !conn.redis.is_empty() {
        return conn.redis.clone();
    }
    URL_ENV
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|v| vec![v])
        .unwrap_or_else(|| file.redis.clone())
}

/// The one Redis URL of every subcommand but `serve` (`None`: the default).
fn redis_url(urls: &[String]) -> Result<Option<String>, UsageError> {
    match urls {
        [] => Ok(None),
        [one] if crate::instances::split_named(one).is_none() => Ok(Some(one.clone())),
        _ => Err(UsageError(
            "several Redis instances (--redis NAME=URL) are for `taskmill serve` only".into(),
        )),
    }
}

async fn run(cli: Cli, file: crate::config::FileConfig) -> anyhow::Result<()> {
    let urls = redis_urls(&cli.conn, &file);
    let redis = || -> anyhow::Result<Redis> { Ok(cli.conn.resolve(redis_url(&urls)?)?) };
    if let Cmd::Demo(a) = cli.cmd {
        // The demo uses a Redis it did not start only when --redis was typed.
        let typed = match cli.redis_flag {
            true => Some(redis()?),
            false => None,
        };
        return demo::run(typed, a).await;
    }
    if let Cmd::Serve(a) = cli.cmd {
        if urls.len() <= 1
            && urls
                .iter()
                .all(|u| crate::instances::split_named(u).is_none())
        {
            return serve::run(&redis()?, a).await;
        }
        let named = crate::instances::parse(&urls).map_err(UsageError)?;
        let mut fleet = Vec::new();
        for (name, url) in named {
            let r = cli
                .conn
                .resolve(Some(url))
                .map_err(|e| UsageError(format!("--redis {name}=...: {}", e.0)))?;
            fleet.push((name, r));
        }
        return serve::run_all(fleet, a).await;
    }
    if let Cmd::HashPassword = cli.cmd {
        return crate::password::hash_stdin();
    }
    let r = &redis()?;
    match cli.cmd {
        Cmd::Serve(_) => unreachable!("handled above"),
        Cmd::Worker(a) => worker_cmd::run(r, a).await,
        Cmd::Demo(_) | Cmd::HashPassword => unreachable!("handled above"),
        Cmd::Info(a) => info::run(r, a).await,
        Cmd::Enqueue(a) => ops::enqueue(r, a).await,
        Cmd::Job(a) => ops::job(r, a).await,
        Cmd::Requeue(a) => ops::requeue(r, a).await,
        Cmd::Stop { id } => ops::stop(r, &id).await,
        Cmd::Cancel { ids } => ops::jobs(r, Action::Cancel { ids }).await,
        Cmd::Delete { ids } => ops::jobs(r, Action::Delete { ids }).await,
        Cmd::Suspend { duration } => ops::suspend(r, duration).await,
        Cmd::Resume => ops::resume(r).await,
        Cmd::Scale { worker, slots } => ops::command(r, Action::Scale { worker, slots }).await,
        Cmd::Shutdown { worker } => ops::command(r, Action::Shutdown { worker }).await,
        Cmd::Chaos(a) => chaos::run(r, a).await,
        Cmd::ChaosWorker(a) => chaos::probe_worker(r, a).await,
        Cmd::Chord(a) => chord_cmd::run(r, a).await,
        Cmd::Cron(a) => cron_cmd::run(r, a).await,
        Cmd::RunCron { name } => cron_cmd::run_now(r, name).await,
        Cmd::Pool(a) => pool::run(r, a).await,
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks (unique names, valid defaults) over every subcommand, and
    /// help text on every flag and argument, with an example in every subcommand's help.
    #[test]
    fn every_flag_has_help_and_every_subcommand_an_example() {
        let cmd = super::command();
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
