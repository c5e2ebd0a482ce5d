//! Search: find jobs by what they were called with, what they said and where they are, over
//! RQ's own keys, with a cost bounded per request.
//!
//! - `query`   — the query language (terms, "phrases", `queue:` `status:` `func:` `worker:`
//!   `exc:`), parsed and bounded once.
//! - `matcher` — whether one job matches, from a few hash fields (payloads decoded, never run).
//! - `scan`    — the sliced scan: the filtered lists and registries, or SCAN over `rq:job:*`,
//!   within a budget of jobs and time per call.
//! - `cursor`  — the opaque, checked continuation cursor.
//!
//! A search never changes queue state and never blocks Redis: every command reads one window
//! (SCAN COUNT / LRANGE / ZRANGE of [`limits::SEARCH_STEP`] ids, then one pipeline of HMGETs).
//! Results come a page at a time with a cursor, and say how many jobs were examined so far.

pub mod cursor;
pub mod matcher;
pub mod query;
pub mod scan;

use std::time::Duration;

use cursor::Cursor;
use scan::Budget;

use crate::model::SearchPage;
use crate::{keys, limits, Error, Result, Store};

/// Budget of one page request: what one click may cost.
pub const PAGE_BUDGET: Budget = Budget {
    jobs: limits::SEARCH_PAGE_JOBS,
    time: Duration::from_millis(limits::SEARCH_PAGE_MILLIS),
};

/// One page of matches for `text`, continuing from `cursor` (from a previous page of the same
/// query). A query that is just an existing job's id answers that job with `exact` set.
pub async fn search(
    store: &Store,
    text: &str,
    cursor: Option<&str>,
    limit: u64,
) -> Result<SearchPage> {
    let limit = limits::validate_search_limit(limit)?;
    let q = query::parse(text)?;
    if !q.searches_rq() {
        // `backend:celery`, `name:`, `state:`: Celery's tasks only (`crate::celery::search`).
        return Ok(SearchPage {
            items: Vec::new(),
            cursor: None,
            scanned: 0,
            exact: None,
        });
    }
    let start = match cursor.filter(|c| !c.is_empty()) {
        Some(c) => Cursor::decode(c, text)?,
        None => {
            if let Some(id) = exact_id(store, &q).await? {
                let items = crate::job::summaries(store, std::slice::from_ref(&id), true).await?;
                return Ok(SearchPage {
                    items,
                    cursor: None,
                    scanned: 1,
                    exact: Some(id),
                });
            }
            Cursor::default()
        }
    };
    let out = scan::run(store, &q, start, limit as usize, PAGE_BUDGET).await?;
    Ok(SearchPage {
        items: crate::job::summaries(store, &out.ids, true).await?,
        cursor: out.next.map(|c| c.encode(text)),
        scanned: out.scanned,
        exact: None,
    })
}

/// Every match of `text`, for a bulk action: the scan runs to the end (in the same slices, for
/// at most [`limits::SEARCH_BULK_SECS`]) and is refused over [`limits::MAX_SEARCH_MATCHES`].
pub async fn matching_ids(store: &Store, text: &str) -> Result<Vec<String>> {
    let q = query::parse(text)?;
    if !q.searches_rq() {
        return Ok(Vec::new());
    }
    let cap = limits::MAX_SEARCH_MATCHES;
    let budget = Budget {
        jobs: u64::MAX,
        time: Duration::from_secs(limits::SEARCH_BULK_SECS),
    };
    let out = scan::run(store, &q, Cursor::default(), cap + 1, budget).await?;
    let mut ids = out.ids;
    if ids.len() > cap {
        return Err(Error::Invalid(format!(
            "this search matches more than {cap} jobs; narrow it (queue:, status:, func:, \
             more words) before acting on the matches"
        )));
    }
    if out.next.is_some() {
        return Err(Error::Invalid(format!(
            "this search examined {} jobs in {} s without reaching the end; narrow it with \
             queue: and status: before acting on the matches",
            out.scanned,
            limits::SEARCH_BULK_SECS
        )));
    }
    // A job listed twice (two executions in a started registry) is acted on once.
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    Ok(ids)
}

/// The query's lone word, when it is a valid id of a job that exists.
async fn exact_id(store: &Store, q: &query::Query) -> Result<Option<String>> {
    let Some(id) = q.lone_id() else {
        return Ok(None);
    };
    if limits::validate_job_id(id).is_err() {
        return Ok(None);
    }
    let n: u64 = redis::cmd("EXISTS")
        .arg(keys::job(id))
        .query_async(&mut store.conn())
        .await?;
    Ok((n == 1).then(|| id.to_string()))
}
