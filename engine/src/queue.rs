//! Queues: `rq:queues` membership and the `rq:queue:<q>` lists. Read-only here; writes live in
//! `enqueue` and `actions`.

use crate::{Result, Store};

/// Every queue in `rq:queues`, sorted by name.
pub async fn list(_store: &Store) -> Result<Vec<String>> {
    todo!("H1")
}

/// Whether `name` is a known queue (member of `rq:queues`).
pub async fn exists(_store: &Store, _name: &str) -> Result<bool> {
    todo!("H1")
}
