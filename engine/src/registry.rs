//! Paginated job lists for the queue list and the six registries. Redis work is O(page):
//! LLEN/ZCARD for the total, one LRANGE/ZRANGE window, one pipeline for the rows (`job::summaries`).

use redis::Value;

use crate::job::{self, reply};
use crate::keys;
use crate::model::{JobList, JobSummary, Page};
use crate::{Result, Store};

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
    let total = replies.first().and_then(reply::int).unwrap_or(0).max(0) as u64;
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

/// Failed jobs across all queues, newest first (merges per-queue windows; O(queues × page)).
pub async fn failed_all(store: &Store, offset: u64, limit: u64) -> Result<Page<JobSummary>> {
    let queues = crate::queue::list(store).await?;
    failed_in(store, &queues, offset, limit).await
}

/// `failed_all` over known queue names (e.g. the queues a fresh snapshot counts failures in),
/// saving the `SMEMBERS` round trip. With a single queue this is that queue's failed page:
/// O(page) at any depth, where merging several queues reads `offset + limit` from each.
pub async fn failed_in(
    store: &Store,
    queues: &[String],
    offset: u64,
    limit: u64,
) -> Result<Page<JobSummary>> {
    if let [only] = queues {
        return page(store, only, JobList::Failed, offset, limit).await;
    }
    let limit = limit.min(MAX_PAGE);
    let mut p = redis::pipe();
    p.ignore_errors();
    for q in queues {
        let k = keys::failed(q);
        p.cmd("ZCARD").arg(&k);
        // Each queue's newest offset+limit entries are enough to cut the merged window.
        if limit > 0 {
            p.cmd("ZREVRANGE")
                .arg(&k)
                .arg(0)
                .arg((offset + limit) as i64 - 1)
                .arg("WITHSCORES");
        }
    }
    let replies: Vec<Value> = if queues.is_empty() {
        Vec::new()
    } else {
        p.query_async(&mut store.conn()).await?
    };
    let mut total = 0u64;
    let mut merged: Vec<(String, Option<f64>)> = Vec::new();
    for pair in replies.chunks(if limit > 0 { 2 } else { 1 }) {
        total += pair.first().and_then(reply::int).unwrap_or(0).max(0) as u64;
        if limit > 0 {
            if let Some(v) = pair.get(1) {
                merged.extend(reply::scored(v));
            }
        }
    }
    // Highest score (latest expiry = latest failure for equal TTLs) first; ties by id for a
    // stable order across pages.
    merged.sort_by(|a, b| {
        let (sa, sb) = (
            a.1.unwrap_or(f64::NEG_INFINITY),
            b.1.unwrap_or(f64::NEG_INFINITY),
        );
        sb.total_cmp(&sa).then_with(|| a.0.cmp(&b.0))
    });
    let window: Vec<_> = merged
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    let items = rows(store, window, true).await?;
    Ok(Page {
        items,
        total,
        offset,
        limit,
    })
}
