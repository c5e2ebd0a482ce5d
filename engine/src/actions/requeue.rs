//! Requeue failed jobs back onto their origin queue, moving the original bytes (RQ 9.4 semantics:
//! ZREM from `rq:failed:<q>` must succeed, status `queued`, new `enqueued_at`, RPUSH/LPUSH).

use super::Outcome;
use crate::{Result, Store};

/// Requeue these failed jobs (each must be in its origin's failed registry).
pub async fn requeue(_store: &Store, _ids: &[String]) -> Result<Outcome> {
    todo!("H2")
}

/// Requeue every failed job of one queue; returns how many moved. Atomic per batch in Lua.
pub async fn requeue_queue(_store: &Store, _queue: &str) -> Result<u64> {
    todo!("H2")
}

/// Requeue every failed job of every queue.
pub async fn requeue_all(_store: &Store) -> Result<u64> {
    todo!("H2")
}
