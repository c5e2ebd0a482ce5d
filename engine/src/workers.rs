//! Reading `rq:workers` and `rq:worker:<w>` hashes. Never SREMs anything (unlike `Worker.all()`).

use crate::model::WorkerInfo;
use crate::{Result, Store};

/// Every worker listed in `rq:workers`; listed-but-missing hashes come back as `stale`.
pub async fn list(_store: &Store) -> Result<Vec<WorkerInfo>> {
    todo!("H1")
}

/// One worker by name.
pub async fn get(_store: &Store, _name: &str) -> Result<Option<WorkerInfo>> {
    todo!("H1")
}
