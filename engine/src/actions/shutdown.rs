//! Worker shutdown (warm) and kill-horse, as RQ pub/sub commands.

use crate::{Result, Store};

/// Returns PUBLISH's receiver count.
pub async fn shutdown(_store: &Store, _worker: &str) -> Result<u64> {
    todo!("H2")
}

pub async fn kill_horse(_store: &Store, _worker: &str) -> Result<u64> {
    todo!("H2")
}
