//! Paginated job lists for the queue list and the six registries. Redis work is O(page):
//! LLEN/ZCARD for the total, one LRANGE/ZRANGE window, one pipeline for the rows (`job::summaries`).

use redis::Value;

use crate::job;
use crate::keys;
use crate::model::{JobList, JobSummary, Page};
use crate::reply;
use crate::{Result, Store};

mod across;
pub use across::{across, across_all, ascending, failed_all, failed_in, SHALLOW};
mod deps;
pub use deps::{deferred_with_deps, MAX_DEPS_PER_JOB};

/// Largest page a caller may ask for.
pub const MAX_PAGE: u64 = 500;

/// The key behind `list` for `queue`.
pub fn key(queue: &str, list: JobList) -> String {
    match list {
        JobList::Queued => keys::queue(queue),
        JobList::Started => keys::started(queue),
        JobList::Finished => keys::finished(queue),
        JobList::Failed => keys::failed(queue),
        JobList::Deferred => keys::deferred(queue),
        JobList::Scheduled => keys::scheduled(queue),
        JobList::Canceled => keys::canceled(queue),
    }
}

/// One page of `list` for `queue`, newest first for registries (ZREVRANGE) except scheduled
/// (soonest first) and the queue itself (head first).
pub async fn page(
    store: &Store,
    queue: &str,
    list: JobList,
    offset: u64,
    limit: u64,
) -> Result<Page<JobSummary>> {
    let limit = limit.min(MAX_PAGE);
    let k = key(queue, list);
    let (start, stop) = (offset as i64, offset as i64 + limit as i64 - 1);
    let mut p = redis::pipe();
    p.ignore_errors();
    p.cmd(if list == JobList::Queued {
        "LLEN"
    } else {
        "ZCARD"
    })
    .arg(&k);
    // limit 0 asks for the count only (and `0 -1` would be the whole list).
    if limit > 0 {
        match list {
            JobList::Queued => p.cmd("LRANGE").arg(&k).arg(start).arg(stop),
            JobList::Scheduled => p
                .cmd("ZRANGE")
                .arg(&k)
                .arg(start)
                .arg(stop)
                .arg("WITHSCORES"),
            _ => p
                .cmd("ZREVRANGE")
                .arg(&k)
                .arg(start)
                .arg(stop)
                .arg("WITHSCORES"),
        };
    }
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let total = replies.first().map_or(0, reply::count);
    let window = match replies.get(1) {
        Some(v) if list == JobList::Queued => {
            reply::strings(v).into_iter().map(|id| (id, None)).collect()
        }
        Some(v) => reply::scored(v),
        None => Vec::new(),
    };
    let items = rows(store, window, list == JobList::Failed).await?;
    Ok(Page {
        items,
        total,
        offset,
        limit,
    })
}

/// Summaries for `(member, score)` pairs; started-registry members are `<id>:<execution id>`.
async fn rows(
    store: &Store,
    window: Vec<(String, Option<f64>)>,
    with_results: bool,
) -> Result<Vec<JobSummary>> {
    let ids: Vec<String> = window
        .iter()
        .map(|(m, _)| keys::parse_started_member(m).0.to_string())
        .collect();
    let mut items = job::summaries(store, &ids, with_results).await?;
    for (s, (_, score)) in items.iter_mut().zip(window) {
        s.score = score;
    }
    Ok(items)
}
