//! Scale a Taskmill worker process to N slots, live (Taskmill-only `scale` pub/sub command; Python
//! workers ignore unknown commands).

use crate::command::Command;
use crate::{Result, Store};

pub use crate::limits::MAX_SLOTS;

/// `worker` is any slot name of the pool. Returns PUBLISH's receiver count.
pub async fn scale(store: &Store, worker: &str, slots: u64) -> Result<u64> {
    crate::limits::validate_slots(slots)?;
    super::shutdown::publish(store, worker, &Command::Scale { slots }).await
}
