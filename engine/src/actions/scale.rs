//! Scale a Taskmill worker process to N slots, live (Taskmill-only `scale` pub/sub command; Python
//! workers ignore unknown commands).

use crate::{Result, Store};

/// Largest slot count accepted.
pub const MAX_SLOTS: u64 = 256;

/// `worker` is any slot name of the pool. Returns PUBLISH's receiver count.
pub async fn scale(_store: &Store, _worker: &str, _slots: u64) -> Result<u64> {
    todo!("H2")
}
