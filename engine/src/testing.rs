//! Test support shared by the crates' integration tests: a real `redis-server` on a free port
//! (never 6379), in its own temp dir, killed on drop. Not used by production code; it lives here
//! (std only) so the engine, console and server tests start Redis the same way.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A private redis-server process; killed (and its dir removed) on drop.
pub struct RedisServer {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl RedisServer {
    /// No persistence, 1000 databases, on a free port.
    pub fn start() -> RedisServer {
        RedisServer::start_on(free_port(), &[])
    }

    /// On `port`, with extra redis-server arguments (e.g. an fsync-always AOF).
    pub fn start_on(port: u16, extra: &[&str]) -> RedisServer {
        let dir = std::env::temp_dir().join(format!("taskmill-it-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir for redis-server");
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--databases", "1000"])
        .arg("--dir")
        .arg(&dir);
        if !extra.contains(&"--appendonly") {
            cmd.args(["--appendonly", "no"]);
        }
        let child = cmd
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be on PATH (scripts/setup.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { port, dir, child }
    }

    pub fn url(&self, db: u32) -> String {
        format!("redis://127.0.0.1:{}/{db}", self.port)
    }

    /// SIGKILL, as a crash would (the dir is kept so an AOF survives for a restart).
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.crash();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

static SHARED: OnceLock<Mutex<Option<RedisServer>>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

extern "C" fn kill_shared() {
    if let Some(m) = SHARED.get() {
        if let Ok(mut g) = m.lock() {
            g.take();
        }
    }
}

extern "C" {
    fn atexit(f: extern "C" fn()) -> i32;
}

/// The port of one server shared by a whole test binary (started on first use, killed at exit).
pub fn shared_port() -> u16 {
    let m = SHARED.get_or_init(|| {
        // SAFETY: registering a plain `extern "C" fn` with libc's atexit.
        unsafe { atexit(kill_shared) };
        Mutex::new(Some(RedisServer::start()))
    });
    m.lock().unwrap().as_ref().unwrap().port
}

/// A URL for a fresh, empty database of the shared server: tests never see each other's keys.
pub fn fresh_url() -> String {
    let port = shared_port();
    let db = NEXT_DB.fetch_add(1, Ordering::SeqCst);
    format!("redis://127.0.0.1:{port}/{db}")
}
