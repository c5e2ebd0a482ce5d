//! Suspend / resume all workers (`rq:suspended`, like `rq suspend` / `rq resume`).

use crate::{Result, Store};

pub async fn suspend(_store: &Store, _duration_secs: Option<u64>) -> Result<()> {
    todo!("H2")
}

pub async fn resume(_store: &Store) -> Result<()> {
    todo!("H2")
}
