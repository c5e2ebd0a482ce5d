//! Failed jobs across queues, newest first, in one order: score descending, then queue (by
//! name), then job id descending. Restricted to one queue that is the registry's own
//! `ZREVRANGE` order, so any page of it is a merge of one window per queue.
//!
//! A shallow page reads the newest `offset + limit` entries of every queue in one round trip. A
//! deep page asks `lua/failed_cut.lua` where it starts: the score at merged position `offset`,
//! found by bisecting on score with `ZCOUNT` inside Redis, and per queue the entries above and at
//! that score. That gives every queue's start index, so the page then reads `limit` entries per
//! queue by index: page 3,000 of a 100,000-job failed list costs about what page 1 does.

use redis::Value;

use super::{page, rows, MAX_PAGE};
use crate::keys;
use crate::model::{JobList, JobSummary, Page};
use crate::reply;
use crate::scripts::FAILED_CUT;
use crate::{Result, Store};

/// Pages ending within this many entries are merged directly; deeper ones bisect.
pub const SHALLOW: u64 = 1_000;

/// Failed jobs across all queues, newest first.
pub async fn failed_all(store: &Store, offset: u64, limit: u64) -> Result<Page<JobSummary>> {
    let queues = crate::queue::list(store).await?;
    failed_in(store, &queues, offset, limit).await
}

/// `failed_all` over known queue names (e.g. the queues a fresh snapshot counts failures in),
/// saving the `SMEMBERS` round trip; a single queue is paged directly.
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
    let mut names: Vec<&String> = queues.iter().collect();
    names.sort();
    names.dedup();
    let keys: Vec<String> = names.into_iter().map(|q| keys::failed(q)).collect();
    let (total, window) = if keys.is_empty() {
        (0, Vec::new())
    } else if limit == 0 || offset.saturating_add(limit) <= SHALLOW {
        shallow(store, &keys, offset, limit).await?
    } else {
        deep(store, &keys, offset, limit).await?
    };
    let items = rows(store, window, true).await?;
    Ok(Page {
        items,
        total,
        offset,
        limit,
    })
}

type Scored = Vec<(String, Option<f64>)>;

/// Reads every queue's newest `offset + limit` entries and cuts the merged window.
async fn shallow(store: &Store, keys: &[String], offset: u64, limit: u64) -> Result<(u64, Scored)> {
    let mut p = redis::pipe();
    p.ignore_errors();
    for k in keys {
        p.cmd("ZCARD").arg(k);
        if limit > 0 {
            let stop = (offset + limit) as i64 - 1;
            p.cmd("ZREVRANGE").arg(k).arg(0).arg(stop).arg("WITHSCORES");
        }
    }
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let mut total = 0;
    let mut tagged = Vec::new();
    for (queue, pair) in replies.chunks(if limit > 0 { 2 } else { 1 }).enumerate() {
        total += count(pair.first());
        if let Some(v) = pair.get(1) {
            tagged.extend(reply::scored(v).into_iter().map(|(m, s)| (m, s, queue)));
        }
    }
    Ok((total, merge(tagged, offset, limit)))
}

/// Asks `failed_cut.lua` where the page starts in every queue, then reads from there.
async fn deep(store: &Store, keys: &[String], offset: u64, limit: u64) -> Result<(u64, Scored)> {
    let cut: Vec<Value> = FAILED_CUT
        .key(keys)
        .arg(offset)
        .invoke_async(&mut store.conn())
        .await?;
    let total = count(cut.first());
    if cut.len() != 2 + 2 * keys.len() {
        return Ok((total, Vec::new()));
    }
    // Ties at the cut score come queue by queue: queues before the one the page starts in have
    // all of theirs on earlier pages, queues after it none.
    let mut skip = offset - cut[2..].chunks(2).map(|c| count(c.first())).sum::<u64>();
    let mut p = redis::pipe();
    p.ignore_errors();
    for (k, c) in keys.iter().zip(cut[2..].chunks(2)) {
        let (above, at) = (count(c.first()), count(c.get(1)));
        let start = above + skip.min(at);
        skip -= skip.min(at);
        p.cmd("ZREVRANGE")
            .arg(k)
            .arg(start)
            .arg(start + limit - 1)
            .arg("WITHSCORES");
    }
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let tagged = replies
        .iter()
        .enumerate()
        .flat_map(|(queue, v)| {
            reply::scored(v)
                .into_iter()
                .map(move |(m, s)| (m, s, queue))
        })
        .collect();
    Ok((total, merge(tagged, 0, limit)))
}

/// Sorts entries tagged with their queue's position into the merged order and cuts.
fn merge(mut tagged: Vec<(String, Option<f64>, usize)>, skip: u64, limit: u64) -> Scored {
    let score = |s: Option<f64>| s.unwrap_or(f64::NEG_INFINITY);
    tagged.sort_by(|a, b| {
        (score(b.1).total_cmp(&score(a.1)))
            .then(a.2.cmp(&b.2))
            .then_with(|| b.0.cmp(&a.0))
    });
    tagged
        .into_iter()
        .skip(skip as usize)
        .take(limit as usize)
        .map(|(m, s, _)| (m, s))
        .collect()
}

fn count(v: Option<&Value>) -> u64 {
    v.map_or(0, reply::count)
}
