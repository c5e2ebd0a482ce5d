//! Empty a queue: remove every queued id and delete those jobs (RQ `Queue.empty()`).

use std::sync::LazyLock;

use redis::Script;

use crate::{keys, Result, Store};

static EMPTY: LazyLock<Script> =
    LazyLock::new(|| super::script(include_str!("../../lua/empty.lua")));

/// Returns how many jobs were removed.
pub async fn empty(store: &Store, queue: &str) -> Result<u64> {
    crate::error::validate_queue_name(queue)?;
    Ok(EMPTY
        .key(keys::queue(queue))
        .arg(super::templates())
        .invoke_async(&mut store.conn())
        .await?)
}
