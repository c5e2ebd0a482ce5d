//! `taskmill chaos-worker` (hidden): exactly `taskmill worker` — same flags, same built-in and
//! exec handlers, same engine pool and two-stage signals — plus one handler,
//! `taskmill.chaos_probe`, that records every execution start in a log file of its own.
//!
//! Why a log file and not Redis state: the engine deletes an execution's keys when it finishes
//! or is reaped, and a retry writes no result entry, so Redis alone cannot say how often a job
//! *ran*. The probe writes `S <token> <unix time>` with one `write(2)` on an `O_APPEND` file
//! before the job does anything else; the line reaches the kernel before the handler sleeps,
//! so a SIGKILL cannot erase it. The file path comes from this process's command line, never
//! from job data, and the token is checked, so a hostile job cannot choose where or what to write.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use engine::worker::{self, Handlers, JobError, Shutdown};
use serde_json::{json, Value};

use crate::worker_cmd::{self, WorkerArgs};

/// The probe's function name.
pub const PROBE_FUNC: &str = "taskmill.chaos_probe";
/// Longest sleep a probe job may ask for.
const MAX_MS: u64 = 60_000;

#[derive(Args, Debug, Clone)]
pub struct ProbeWorkerArgs {
    /// File the probe appends one line per execution start to
    #[arg(long, value_name = "FILE")]
    pub probe_log: PathBuf,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

pub async fn run(redis: &crate::redis_args::Redis, args: ProbeWorkerArgs) -> anyhow::Result<()> {
    let config = args.worker.pool_config()?;
    let mut handlers = worker_cmd::handlers(args.worker.handlers.as_deref())?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.probe_log)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.probe_log.display()))?;
    handlers.extend(probe_handlers(log));
    let store = redis.connect().await?;
    let shutdown = Shutdown::default();
    let signals = tokio::spawn(worker_cmd::two_stage_signals(shutdown.clone()));
    let report = worker::run(store, config, handlers, shutdown).await;
    signals.abort();
    let report = report?;
    tracing::info!(?report, "chaos worker stopped");
    Ok(())
}

/// `taskmill.chaos_probe(token, ms)`: logs the start, sleeps `ms`, returns the token.
pub fn probe_handlers(log: File) -> Handlers {
    let log = Arc::new(Mutex::new(log));
    let mut h = Handlers::new();
    h.register(PROBE_FUNC, move |args, _kwargs| {
        let log = log.clone();
        async move {
            let (token, ms) = probe_args(&args)?;
            let line = format!("S {token} {:.6}\n", engine::time::now());
            let written = match log.lock() {
                Ok(mut f) => f.write_all(line.as_bytes()),
                Err(_) => Err(std::io::Error::other("probe log lock poisoned")),
            };
            // An unrecorded start would make the duplicate count a lie: fail the job instead.
            written.map_err(|e| JobError {
                traceback: format!("taskmill.chaos_probe: cannot write the probe log: {e}"),
            })?;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!(token))
        }
    });
    h
}

fn probe_args(args: &[Value]) -> Result<(String, u64), JobError> {
    let bad = |what: &str| JobError {
        traceback: format!("TypeError: taskmill.chaos_probe expects (token, ms): {what}"),
    };
    let token = args
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| bad("token must be a string"))?;
    if token.is_empty()
        || token.len() > 64
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad("token must be 1..=64 of [A-Za-z0-9_-]"));
    }
    let ms = match args.get(1) {
        None => 0,
        Some(v) => v
            .as_u64()
            .filter(|ms| *ms <= MAX_MS)
            .ok_or_else(|| bad("ms must be an integer 0..=60000"))?,
    };
    Ok((token.to_string(), ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_arguments_are_checked() {
        assert_eq!(
            probe_args(&[json!("a-1_B"), json!(5)]).unwrap(),
            ("a-1_B".to_string(), 5)
        );
        assert_eq!(probe_args(&[json!("x")]).unwrap().1, 0);
        for bad in [
            vec![],
            vec![json!(1)],
            vec![json!("")],
            vec![json!("a b")],
            vec![json!("a\nS forged 0")],
            vec![json!("x".repeat(65))],
            vec![json!("x"), json!(-1)],
            vec![json!("x"), json!(60_001)],
            vec![json!("x"), json!(1.5)],
        ] {
            assert!(probe_args(&bad).is_err(), "{bad:?}");
        }
    }
}
