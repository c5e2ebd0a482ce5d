//! Scale a Taskmill worker process to N slots, live (Taskmill-only `scale` pub/sub command; Python
//! workers ignore unknown commands).

use crate::command::Command;
use crate::{Error, Result, Store};

/// Largest slot count accepted.
pub const MAX_SLOTS: u64 = 256;

/// `worker` is any slot name of the pool. Returns PUBLISH's receiver count.
pub async fn scale(store: &Store, worker: &str, slots: u64) -> Result<u64> {
    if !(1..=MAX_SLOTS).contains(&slots) {
        return Err(Error::Invalid(format!(
            "slots must be 1..={MAX_SLOTS}, got {slots}"
        )));
    }
    super::shutdown::publish(store, worker, &Command::Scale { slots }).await
}
