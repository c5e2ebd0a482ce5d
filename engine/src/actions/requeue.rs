//! Requeue failed jobs back onto their origin queue, moving the original bytes (RQ 9.4 semantics:
//! ZREM from `rq:failed:<q>` must succeed, status `queued`, new `enqueued_at`, RPUSH/LPUSH).
//!
//! Atomicity: `requeue` is one script per [`super::CHUNK`] ids. `requeue_queue` walks the failed
//! registry in windows of `CHUNK` entries, one script each: every window is atomic (a job is
//! either fully requeued or untouched) but the whole registry is not, so jobs failing while it
//! runs may or may not be included.

use super::{JobsOutcome, CHUNK, ZLIB_EMPTY};
use crate::scripts::{REQUEUE, REQUEUE_FAILED};
use crate::{keys, time, Result, Store};

/// Requeue these failed jobs (each must be in its origin's failed registry).
pub async fn requeue(store: &Store, ids: &[String]) -> Result<JobsOutcome> {
    requeue_with(store, ids, false).await
}

/// [`requeue`], optionally pushing to the front of the queue (RQ's `requeue(at_front=True)`).
pub async fn requeue_with(store: &Store, ids: &[String], at_front: bool) -> Result<JobsOutcome> {
    let now = time::format_rq(time::now());
    let front: &[u8] = if at_front { b"1" } else { b"0" };
    super::run_per_id(
        store,
        &REQUEUE,
        &[],
        &[now.as_bytes(), front, ZLIB_EMPTY],
        ids,
    )
    .await
}

/// Requeue every failed job of one queue; returns how many moved. Atomic per batch in Lua.
pub async fn requeue_queue(store: &Store, queue: &str) -> Result<u64> {
    crate::limits::validate_queue_name(queue)?;
    let failed = keys::failed(queue);
    let mut conn = store.conn();
    let mut moved = 0;
    loop {
        let now = time::format_rq(time::now());
        let (n, examined): (u64, usize) = REQUEUE_FAILED
            .key(&failed)
            .arg(now)
            .arg("0")
            .arg(ZLIB_EMPTY)
            .arg(CHUNK)
            .invoke_async(&mut conn)
            .await?;
        moved += n;
        if examined < CHUNK {
            return Ok(moved);
        }
    }
}

/// Requeue every failed job of every queue in `rq:queues` (the queues `queue::list` reads, so
/// the confirmed count and the walk agree; a member that is not UTF-8 is skipped, not an error).
pub async fn requeue_all(store: &Store) -> Result<u64> {
    let mut moved = 0;
    for name in crate::queue::list(store).await? {
        if crate::limits::validate_queue_name(&name).is_ok() {
            moved += requeue_queue(store, &name).await?;
        }
    }
    Ok(moved)
}
