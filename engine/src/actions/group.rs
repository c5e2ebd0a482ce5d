//! Requeue or delete every failure of one failure group (`requeue-group`, `delete-group`).
//!
//! The set acted on is the group's *live* members: the index's members still failed with the
//! score they were indexed at (checked in Redis just before, stale entries dropped). Its size is
//! the count the operator confirms. Each chunk of [`super::CHUNK`] ids is one atomic script —
//! the per-id requeue / delete scripts, whose own checks (requeue: the ZREM from the failed
//! registry must succeed) make a job that changed in between a skip, never a double move.
//! Failures of this kind that the index has not seen yet (newer than its `as_of`) are not
//! included; the page says as of when.

use crate::groups::read;
use crate::{Error, Result, Store};

/// Which of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupVerb {
    Requeue,
    Delete,
}

/// The live members' count (what a dry run reports and `expected` is checked against).
pub async fn live_count(store: &Store, fingerprint: &str) -> Result<u64> {
    known_group(store, fingerprint).await?;
    Ok(read::live_members(store, fingerprint).await?.len() as u64)
}

/// Runs `verb` over the group; refuses as a conflict when `expected` differs from the live count.
pub async fn run(
    store: &Store,
    verb: GroupVerb,
    fingerprint: &str,
    expected: Option<u64>,
) -> Result<u64> {
    known_group(store, fingerprint).await?;
    let members = read::live_members(store, fingerprint).await?;
    if let Some(expected) = expected {
        let now = members.len() as u64;
        if now != expected {
            return Err(Error::Conflict(format!(
                "The number of failed jobs in group {fingerprint} changed from {expected} to \
                 {now} since you confirmed; nothing was done. Review and confirm again."
            )));
        }
    }
    let ids: Vec<String> = members
        .iter()
        .map(|m| read::member_id(m).to_string())
        .collect();
    let mut count = 0;
    for chunk in ids.chunks(super::CHUNK) {
        let out = match verb {
            GroupVerb::Requeue => super::requeue::requeue(store, chunk).await?,
            GroupVerb::Delete => super::delete::delete(store, chunk).await?,
        };
        count += out.count();
    }
    // The moved failures leave the index now, not at the next pass.
    read::prune_members(store, &members).await?;
    Ok(count)
}

/// A fingerprint nobody has is a typo or a group already emptied: not found.
async fn known_group(store: &Store, fingerprint: &str) -> Result<()> {
    if read::group_info(store, fingerprint).await?.is_some() {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "no failure group {fingerprint:?} (it may have been emptied; see the groups page)"
        )))
    }
}
