//! Requeue, delete or cancel every job a search matches (`requeue-search`, `delete-search`,
//! `cancel-search`).
//!
//! The set acted on is the search's matches, collected by running the search to its end in the
//! same bounded slices as a page (refused over `limits::MAX_SEARCH_MATCHES` or when it cannot
//! finish in `limits::SEARCH_BULK_SECS`: narrow the query). Its size is the count the operator
//! confirms; a different count is a conflict and nothing is done. Each chunk of
//! [`super::CHUNK`] ids is one atomic per-id script whose own checks make a job that changed in
//! between a skip (requeue acts only on failed jobs, cancel only on queued / deferred /
//! scheduled ones), so the count returned is what was actually done.

use crate::{Error, Result, Store};

/// Which of the three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchVerb {
    Requeue,
    Delete,
    Cancel,
}

/// How many jobs the search matches now (a dry run, and what `expected` is checked against).
pub async fn live_count(store: &Store, query: &str) -> Result<u64> {
    Ok(crate::search::matching_ids(store, query).await?.len() as u64)
}

/// Runs `verb` over the matches; refuses as a conflict when `expected` differs from their count.
pub async fn run(
    store: &Store,
    verb: SearchVerb,
    query: &str,
    expected: Option<u64>,
) -> Result<u64> {
    let ids = crate::search::matching_ids(store, query).await?;
    if let Some(expected) = expected {
        let now = ids.len() as u64;
        if now != expected {
            return Err(Error::Conflict(format!(
                "The number of jobs matching this search changed from {expected} to {now} \
                 since you confirmed; nothing was done. Review and confirm again."
            )));
        }
    }
    let mut count = 0;
    for chunk in ids.chunks(super::CHUNK) {
        let out = match verb {
            SearchVerb::Requeue => super::requeue::requeue(store, chunk).await?,
            SearchVerb::Delete => super::delete::delete(store, chunk).await?,
            SearchVerb::Cancel => super::cancel::cancel(store, chunk).await?,
        };
        count += out.count();
    }
    Ok(count)
}
