//! The shared test redis-server (`engine::testing`): one per test binary on a free port, one
//! fresh database per test; private servers for tests that stop or start Redis themselves.

pub use engine::testing::{free_port, fresh_url, RedisServer};

pub fn start_redis() -> RedisServer {
    RedisServer::start()
}

/// Starts a private redis-server on `port` (used to bring Redis up after a console started).
pub fn start_redis_on(port: u16) -> RedisServer {
    RedisServer::start_on(port, &[])
}
