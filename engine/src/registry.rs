//! Paginated job lists for the queue list and the six registries. Redis work is O(page):
//! LLEN/ZCARD for the total, one LRANGE/ZRANGE window, one pipelined HMGET per page.

use crate::model::{JobList, JobSummary, Page};
use crate::{Result, Store};

/// Largest page a caller may ask for.
pub const MAX_PAGE: u64 = 500;

/// One page of `list` for `queue`, newest first for registries (ZREVRANGE) except scheduled
/// (soonest first) and the queue itself (head first).
pub async fn page(
    _store: &Store,
    _queue: &str,
    _list: JobList,
    _offset: u64,
    _limit: u64,
) -> Result<Page<JobSummary>> {
    todo!("H1")
}

/// Failed jobs across all queues, newest first (merges per-queue windows; O(queues × page)).
pub async fn failed_all(_store: &Store, _offset: u64, _limit: u64) -> Result<Page<JobSummary>> {
    todo!("H1")
}
