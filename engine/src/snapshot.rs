//! The overview snapshot: O(queues + workers) commands in a few pipelines, shared by the
//! overview page, the live counters and `/metrics` (the server caches it for ≤ 1 s).

use crate::model::Snapshot;
use crate::{Result, Store};

pub async fn take(_store: &Store) -> Result<Snapshot> {
    todo!("H1")
}
