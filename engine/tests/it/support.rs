//! A real `redis-server` started once per test binary on a free port (no persistence), killed
//! when the process exits. Each test gets its own database, so tests never see each other's keys.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use engine::Store;

pub struct RedisServer {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct TempDir(pub std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts a private redis-server; panics with a clear message if the binary is missing.
pub fn start_redis() -> RedisServer {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("taskmill-it-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--databases", "1000", "--dir", dir.to_str().unwrap()])
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
    RedisServer {
        port,
        child,
        _dir: TempDir(dir),
    }
}

static SERVER: OnceLock<std::sync::Mutex<Option<RedisServer>>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

extern "C" fn kill_server() {
    if let Some(m) = SERVER.get() {
        if let Ok(mut g) = m.lock() {
            g.take();
        }
    }
}

extern "C" {
    fn atexit(f: extern "C" fn()) -> i32;
}

pub fn server_port() -> u16 {
    let m = SERVER.get_or_init(|| {
        unsafe { atexit(kill_server) };
        std::sync::Mutex::new(Some(start_redis()))
    });
    m.lock().unwrap().as_ref().unwrap().port
}

/// A URL for a fresh, empty database of the shared test server.
pub fn fresh_url() -> String {
    let port = server_port();
    let db = NEXT_DB.fetch_add(1, Ordering::SeqCst);
    format!("redis://127.0.0.1:{port}/{db}")
}

/// A `Store` on a fresh, empty database.
pub async fn store() -> Store {
    Store::connect(&fresh_url())
        .await
        .expect("connect to test redis")
}
