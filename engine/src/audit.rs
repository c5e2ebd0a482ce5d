//! The audit log: one JSON record per operator action in a capped Redis list (`taskmill:audit`).

use crate::model::{AuditEntry, Page};
use crate::{Result, Store};

/// Most records kept.
pub const CAP: i64 = 10_000;

pub async fn record(_store: &Store, _entry: &AuditEntry) -> Result<()> {
    todo!("H2")
}

/// Newest first.
pub async fn page(_store: &Store, _offset: u64, _limit: u64) -> Result<Page<AuditEntry>> {
    todo!("H2")
}
