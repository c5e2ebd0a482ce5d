//! A real `redis-server` started once per test binary on a free port (no persistence), killed
//! when the process exits (`engine::testing`). Each test gets its own database, so tests never
//! see each other's keys; tests that must own a server start a private one.

pub use engine::testing::{fresh_url, RedisServer};
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
