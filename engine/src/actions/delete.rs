//! Delete jobs and all their keys (hash, dependents, dependencies, executions, results, registry
//! and queue entries). Any state is accepted; deleting a running job does not stop it (its worker
//! finds the hash gone when it finishes).

use super::JobsOutcome;
use crate::scripts::DELETE;
use crate::{Result, Store};

pub async fn delete(store: &Store, ids: &[String]) -> Result<JobsOutcome> {
    super::run_per_id(store, &DELETE, &[], &[], ids).await
}
