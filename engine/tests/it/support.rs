//! A real `redis-server` started once per test binary on a free port (no persistence), killed
//! when the process exits (`engine::testing`). Each test gets its own database, so tests never
//! see each other's keys; tests that must own a server start a private one.

pub use engine::testing::{fresh_url, RedisServer};
use std::path::{Path, PathBuf};
use std::process::Command;

use engine::Store;

/// A private redis-server for one test (killed on drop).
pub fn start_redis() -> RedisServer {
    RedisServer::start()
}

/// A `Store` on a fresh, empty database.
pub async fn store() -> Store {
    Store::connect(&fresh_url())
        .await
        .expect("connect to test redis")
}

/// Repository root, for `.venv` and `tests/interop`.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python interpreter with rq 2.12 (`TASKMILL_PYTHON`, else `.venv/bin/python`), or `None`
/// when it is missing and `TASKMILL_SKIP_PY=1`; otherwise a missing venv fails the test clearly.
pub fn python() -> Option<PathBuf> {
    let py = std::env::var_os("TASKMILL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    if py.exists() {
        return Some(py);
    }
    if std::env::var("TASKMILL_SKIP_PY").as_deref() == Ok("1") {
        eprintln!(
            "skipping a Python RQ check: no Python at {} (TASKMILL_SKIP_PY=1)",
            py.display()
        );
        return None;
    }
    panic!(
        "Python RQ tests need Python with rq==2.12.0 at {} (run scripts/setup.sh, or set \
         TASKMILL_PYTHON=/path/to/python); set TASKMILL_SKIP_PY=1 to skip them",
        py.display()
    );
}

/// Runs `program args…` (the venv's python, `rq`, …) in `tests/interop` and returns its stdout;
/// panics with both streams on failure.
pub fn run_python(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(repo_root().join("tests/interop"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{}\n{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
