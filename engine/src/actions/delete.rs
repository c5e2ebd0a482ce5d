//! Delete jobs and all their keys (hash, dependents, dependencies, executions, results, registry
//! and queue entries).

use super::Outcome;
use crate::{Result, Store};

pub async fn delete(_store: &Store, _ids: &[String]) -> Result<Outcome> {
    todo!("H2")
}
