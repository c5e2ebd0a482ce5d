//! Exec handlers: a job runs as a child process declared in TOML.
//!
//! ```toml
//! [handlers."reports.build"]
//! command = ["python3", "scripts/build_report.py"]   # argv, no shell
//! env = { K = "V" }                                  # optional
//! cwd = "dir"                                        # optional, relative to the worker's cwd
//! ```
//! The child gets `{"args": [...], "kwargs": {...}}` on stdin; its stdout (JSON, empty = null)
//! is the result; a non-zero exit fails the job with stderr as the traceback. The child runs in
//! its own process group, killed as a whole when the job future is dropped (timeout, stop-job,
//! kill-horse, shutdown), so grandchildren do not outlive the job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::handlers::{Handlers, JobError};
use crate::{Error, Result};

/// Largest stdout accepted as a result, and stderr kept as a traceback.
pub const MAX_STDOUT: u64 = 16 * 1024 * 1024;
pub const MAX_STDERR: u64 = 64 * 1024;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecSpec {
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub cwd: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecFile {
    #[serde(default)]
    handlers: BTreeMap<String, ExecSpec>,
}

impl Handlers {
    /// Exec handlers from a TOML file (see this module for the format).
    pub fn load_exec_toml(path: impl AsRef<Path>) -> Result<Handlers> {
        load(path.as_ref())
    }
}

/// Parses a handlers TOML file into exec handlers.
pub fn load(path: &Path) -> Result<Handlers> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    parse(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

pub fn parse(text: &str) -> std::result::Result<Handlers, String> {
    let file: ExecFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut h = Handlers::new();
    for (name, spec) in file.handlers {
        if spec.command.is_empty() || spec.command[0].is_empty() {
            return Err(format!(
                "handler {name:?}: command must be a non-empty argv list"
            ));
        }
        let spec = Arc::new(spec);
        let label = name.clone();
        h.register(&name, move |args, kwargs| {
            run(label.clone(), spec.clone(), args, kwargs)
        });
    }
    Ok(h)
}

/// Kills the child's whole process group unless disarmed (normal exit).
struct GroupGuard(Option<i32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

async fn run(
    name: String,
    spec: Arc<ExecSpec>,
    args: Vec<Value>,
    kwargs: Map<String, Value>,
) -> std::result::Result<Value, JobError> {
    let fail = |msg: String| JobError {
        traceback: format!("taskmill: exec handler '{name}': {msg}"),
    };
    let mut cmd = Command::new(&spec.command[0]);
    cmd.args(&spec.command[1..])
        .envs(&spec.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot start {:?}: {e}", spec.command[0])))?;
    let mut guard = GroupGuard(child.id().map(|p| p as i32));
    let input = serde_json::to_vec(&json!({"args": args, "kwargs": kwargs})).unwrap_or_default();
    let mut stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let write = async move {
        if let Some(mut s) = stdin.take() {
            // A child that does not read stdin is fine: ignore broken pipes.
            let _ = s.write_all(&input).await;
            let _ = s.shutdown().await;
        }
    };
    let read_out = read_bounded(stdout, MAX_STDOUT);
    let read_err = read_bounded(stderr, MAX_STDERR);
    let ((), out, err) = tokio::join!(write, read_out, read_err);
    let status = child
        .wait()
        .await
        .map_err(|e| fail(format!("wait failed: {e}")))?;
    guard.0 = None;
    let (out, out_overflow) = out;
    let (err, _) = err;
    let stderr_text = String::from_utf8_lossy(&err).into_owned();
    if !status.success() {
        let how = match status.code() {
            Some(c) => format!("exited with status {c}"),
            None => "was killed by a signal".to_string(),
        };
        return Err(JobError {
            traceback: format!("{stderr_text}\ntaskmill: exec handler '{name}' {how}"),
        });
    }
    if out_overflow {
        return Err(fail(format!("stdout is larger than {MAX_STDOUT} bytes")));
    }
    let trimmed = String::from_utf8_lossy(&out);
    let trimmed = trimmed.trim();
    if trimmed.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(trimmed).map_err(|e| fail(format!("stdout is not JSON: {e}")))
}

/// Reads up to `max` bytes; keeps draining (and discarding) the rest so the child never blocks
/// on a full pipe. Returns the bytes and whether anything was cut.
async fn read_bounded<R: tokio::io::AsyncRead + Unpin>(r: Option<R>, max: u64) -> (Vec<u8>, bool) {
    let Some(mut r) = r else {
        return (Vec::new(), false);
    };
    let mut buf = Vec::new();
    let _ = (&mut r).take(max).read_to_end(&mut buf).await;
    let mut sink = [0u8; 8192];
    let mut overflow = false;
    while let Ok(n) = r.read(&mut sink).await {
        if n == 0 {
            break;
        }
        overflow = true;
    }
    (buf, overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_handler_tables_and_rejects_bad_ones() {
        let h = parse(
            r#"
            [handlers."reports.build"]
            command = ["python3", "scripts/build_report.py"]
            env = { K = "V" }
            cwd = "dir"
            "#,
        )
        .unwrap();
        assert_eq!(h.names(), vec!["reports.build".to_string()]);
        assert!(parse("[handlers.x]\ncommand = []\n").is_err());
        assert!(parse("[handlers.x]\ncommand = [\"a\"]\nshell = true\n").is_err());
        assert!(parse("not toml [").is_err());
    }
}
