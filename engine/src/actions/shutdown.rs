//! Worker shutdown (warm) and kill-horse, as RQ pub/sub commands.

use crate::command::Command;
use crate::{keys, Result, Store};

/// Returns PUBLISH's receiver count.
pub async fn shutdown(store: &Store, worker: &str) -> Result<u64> {
    publish(store, worker, &Command::Shutdown).await
}

pub async fn kill_horse(store: &Store, worker: &str) -> Result<u64> {
    publish(store, worker, &Command::KillHorse).await
}

/// PUBLISH `command` on `rq:pubsub:<worker>`. Worker names are free text in RQ; only empty,
/// huge or control-character names are refused.
pub(crate) async fn publish(store: &Store, worker: &str, command: &Command) -> Result<u64> {
    crate::limits::validate_worker_name(worker)?;
    Ok(redis::cmd("PUBLISH")
        .arg(keys::pubsub(worker))
        .arg(command.to_payload())
        .query_async(&mut store.conn())
        .await?)
}
