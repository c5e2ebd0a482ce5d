//! Empty a queue: remove every queued id and delete those jobs (RQ `Queue.empty()`).

use crate::scripts::EMPTY;
use crate::{keys, Result, Store};

/// Returns how many jobs were removed.
pub async fn empty(store: &Store, queue: &str) -> Result<u64> {
    crate::limits::validate_queue_name(queue)?;
    Ok(EMPTY
        .key(keys::queue(queue))
        .invoke_async(&mut store.conn())
        .await?)
}
