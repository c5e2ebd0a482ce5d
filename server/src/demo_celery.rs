//! The Celery side of `taskmill demo`: a real Celery worker (celery from PyPI, in the project's
//! `.venv`) and a Python traffic generator, both on the demo's Redis, beside the RQ side.
//!
//! The tasks module (`demo_celery.py`, compiled in) is written into a scratch dir of its own.
//! Each child runs in its own process group, so stopping it reaches the prefork pool's
//! processes too: SIGTERM (warm shutdown), SIGKILL after a grace period. On Linux a child also
//! gets SIGKILL if taskmill itself is killed (PR_SET_PDEATHSIG). The guard stops both children
//! and removes the dir on drop (normal exit, Ctrl-C, panic unwinding).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The tasks module, as written next to the worker.
const MODULE: &str = include_str!("demo_celery.py");
const MODULE_NAME: &str = "taskmill_demo_celery";
/// The queues the worker consumes (`archive` is left for nobody, on purpose).
pub const QUEUES: &str = "celery,images";
/// How long a warm shutdown may take before the group is killed.
const GRACE: Duration = Duration::from_secs(5);

pub struct CeleryDemo {
    pub dir: PathBuf,
    worker: Option<Child>,
    traffic: Option<Child>,
}

/// The Python that has celery: `$TASKMILL_PYTHON` (scripts/lib.sh sets it to the `.venv`),
/// else `.venv/bin/python` under the current directory. `Err` says why the Celery side is off.
pub fn find_python() -> Result<PathBuf, String> {
    let python = std::env::var_os("TASKMILL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import celery"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(python)
    } else {
        Err(format!(
            "no celery importable by {} (run scripts/setup.sh --demo, or set TASKMILL_PYTHON)",
            python.display()
        ))
    }
}

impl CeleryDemo {
    /// Writes the module and starts the worker (node name `demo@<host>`) on `broker`, plus the
    /// traffic generator when `traffic`. Logs go to `celery-worker.log` / `celery-traffic.log`
    /// in the scratch dir.
    pub fn start(python: &Path, broker: &str, traffic: bool) -> anyhow::Result<CeleryDemo> {
        let dir = std::env::temp_dir().join(format!(
            "taskmill-demo-celery-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir)?;
        let mut me = CeleryDemo {
            dir,
            worker: None,
            traffic: None,
        };
        std::fs::write(me.dir.join(format!("{MODULE_NAME}.py")), MODULE)?;
        let worker_args = [
            "-m",
            "celery",
            "-A",
            MODULE_NAME,
            "worker",
            "-E",
            // A fixed pool: Celery 5.7 refuses pool grow / shrink on an autoscaled one (and the
            // autoscale command on a fixed one).
            "--concurrency",
            "2",
            "--queues",
            QUEUES,
            "--hostname",
            "demo@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ];
        me.worker = Some(me.spawn(python, &worker_args, broker, "celery-worker.log")?);
        if traffic {
            let script = format!("{MODULE_NAME}.py");
            let args = [script.as_str(), "traffic"];
            me.traffic = Some(me.spawn(python, &args, broker, "celery-traffic.log")?);
        }
        Ok(me)
    }

    fn spawn(
        &self,
        python: &Path,
        args: &[&str],
        broker: &str,
        log: &str,
    ) -> anyhow::Result<Child> {
        use std::os::unix::process::CommandExt;
        let log = std::fs::File::create(self.dir.join(log))?;
        let mut cmd = Command::new(python);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("TASKMILL_DEMO_CELERY_BROKER", broker)
            // Celery would let these win over the module's broker (the module drops them too).
            .env_remove("CELERY_BROKER_URL")
            .env_remove("CELERY_BROKER_READ_URL")
            .env_remove("CELERY_BROKER_WRITE_URL")
            .env_remove("CELERY_RESULT_BACKEND")
            .env("PYTHONPATH", &self.dir)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        crate::redis_child::die_with_parent(&mut cmd);
        cmd.spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", python.display()))
    }

    /// The worker's pid, also its process group id (the prefork pool processes share it).
    pub fn worker_pid(&self) -> Option<u32> {
        self.worker.as_ref().map(Child::id)
    }

    /// Stops traffic at once, then the worker (warm, then killed after [`GRACE`]).
    pub fn stop(&mut self) {
        for child in [self.traffic.take(), self.worker.take()]
            .into_iter()
            .flatten()
        {
            stop_group(child);
        }
    }
}

impl Drop for CeleryDemo {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// SIGTERM to the child's process group, SIGKILL to the group if it is still there after
/// [`GRACE`].
fn stop_group(mut child: Child) {
    let group = -(child.id() as libc::pid_t);
    // SAFETY: kill(2) with a process group id this process created.
    unsafe { libc::kill(group, libc::SIGTERM) };
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The leader may be gone while pool processes linger: the group gets SIGKILL either way.
    // SAFETY: as above.
    unsafe { libc::kill(group, libc::SIGKILL) };
    let _ = child.wait();
}
