//! One registry (failed, scheduled, deferred, canceled, ...) across queues, in one order: score
//! (descending, or ascending for scheduled: soonest first), then queue (by name), then job id
//! (descending / ascending). Restricted to one queue that is the registry's own `ZREVRANGE` /
//! `ZRANGE` order, so any page of it is a merge of one window per queue.
//!
//! A shallow page reads the first `offset + limit` entries of every queue in one round trip. A
//! deep page asks `lua/registry_cut.lua` where it starts: the score at merged position `offset`,
//! found by bisecting on score with `ZCOUNT` inside Redis, and per queue the entries before and
//! at that score. That gives every queue's start index, so the page then reads `limit` entries
//! per queue by index: page 3,000 of a 100,000-job registry costs about what page 1 does.

use redis::Value;

use super::{key, page, rows, MAX_PAGE};
use crate::model::{JobList, JobSummary, Page};
use crate::reply;
use crate::scripts::REGISTRY_CUT;
use crate::{Error, Result, Store};

/// Pages ending within this many entries are merged directly; deeper ones bisect.
pub const SHALLOW: u64 = 1_000;

/// Failed jobs across all queues, newest first.
pub async fn failed_all(store: &Store, offset: u64, limit: u64) -> Result<Page<JobSummary>> {
    across_all(store, JobList::Failed, offset, limit).await
}

/// `failed_all` over known queue names (e.g. the queues a fresh snapshot counts failures in),
/// saving the `SMEMBERS` round trip; a single queue is paged directly.
pub async fn failed_in(
    store: &Store,
    queues: &[String],
    offset: u64,
    limit: u64,
) -> Result<Page<JobSummary>> {
    across(store, JobList::Failed, queues, offset, limit).await
}

/// `list` across every queue in `rq:queues`.
pub async fn across_all(
    store: &Store,
    list: JobList,
    offset: u64,
    limit: u64,
) -> Result<Page<JobSummary>> {
    let queues = crate::queue::list(store).await?;
    across(store, list, &queues, offset, limit).await
}

/// Whether `list` is merged soonest first (scheduled) rather than newest first.
pub fn ascending(list: JobList) -> bool {
    list == JobList::Scheduled
}

/// One page of registry `list` merged across `queues` (the queue list itself is not a sorted
/// set and has no cross-queue order: `Error::Invalid`).
pub async fn across(
    store: &Store,
    list: JobList,
    queues: &[String],
    offset: u64,
    limit: u64,
) -> Result<Page<JobSummary>> {
    if list == JobList::Queued {
        return Err(Error::Invalid(
            "queued jobs have no cross-queue order; page one queue".into(),
        ));
    }
    if let [only] = queues {
        return page(store, only, list, offset, limit).await;
    }
    let limit = limit.min(MAX_PAGE);
    let mut names: Vec<&String> = queues.iter().collect();
    names.sort();
    names.dedup();
    let keys: Vec<String> = names.into_iter().map(|q| key(q, list)).collect();
    let asc = ascending(list);
    let (total, window) = if keys.is_empty() {
        (0, Vec::new())
    } else if limit == 0 || offset.saturating_add(limit) <= SHALLOW {
        shallow(store, &keys, asc, offset, limit).await?
    } else {
        deep(store, &keys, asc, offset, limit).await?
    };
    let items = rows(store, window, list == JobList::Failed).await?;
    Ok(Page {
        items,
        total,
        offset,
        limit,
    })
}

type Scored = Vec<(String, Option<f64>)>;

fn range_cmd(asc: bool) -> &'static str {
    if asc {
        "ZRANGE"
    } else {
        "ZREVRANGE"
    }
}

/// Reads every queue's first `offset + limit` entries and cuts the merged window.
async fn shallow(
    store: &Store,
    keys: &[String],
    asc: bool,
    offset: u64,
    limit: u64,
) -> Result<(u64, Scored)> {
    let mut p = redis::pipe();
    p.ignore_errors();
    for k in keys {
        p.cmd("ZCARD").arg(k);
        if limit > 0 {
            let stop = (offset + limit) as i64 - 1;
            p.cmd(range_cmd(asc))
                .arg(k)
                .arg(0)
                .arg(stop)
                .arg("WITHSCORES");
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
    Ok((total, merge(tagged, asc, offset, limit)))
}

/// Asks `registry_cut.lua` where the page starts in every queue, then reads from there.
async fn deep(
    store: &Store,
    keys: &[String],
    asc: bool,
    offset: u64,
    limit: u64,
) -> Result<(u64, Scored)> {
    let cut: Vec<Value> = REGISTRY_CUT
        .key(keys)
        .arg(offset)
        .arg(if asc { "asc" } else { "desc" })
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
        let (before, at) = (count(c.first()), count(c.get(1)));
        let start = before + skip.min(at);
        skip -= skip.min(at);
        p.cmd(range_cmd(asc))
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
    Ok((total, merge(tagged, asc, 0, limit)))
}

/// Sorts entries tagged with their queue's position into the merged order and cuts.
fn merge(
    mut tagged: Vec<(String, Option<f64>, usize)>,
    asc: bool,
    skip: u64,
    limit: u64,
) -> Scored {
    let score = |s: Option<f64>| s.unwrap_or(f64::NEG_INFINITY);
    tagged.sort_by(|a, b| {
        if asc {
            (score(a.1).total_cmp(&score(b.1)))
                .then(a.2.cmp(&b.2))
                .then_with(|| a.0.cmp(&b.0))
        } else {
            (score(b.1).total_cmp(&score(a.1)))
                .then(a.2.cmp(&b.2))
                .then_with(|| b.0.cmp(&a.0))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_orders_both_directions() {
        let t = |m: &str, s: f64, q: usize| (m.to_string(), Some(s), q);
        let entries = vec![
            t("b", 2.0, 1),
            t("a", 2.0, 0),
            t("c", 1.0, 1),
            t("d", 3.0, 0),
        ];
        let ids = |v: Scored| v.into_iter().map(|(m, _)| m).collect::<Vec<_>>();
        assert_eq!(
            ids(merge(entries.clone(), false, 0, 10)),
            ["d", "a", "b", "c"]
        );
        assert_eq!(
            ids(merge(entries.clone(), true, 0, 10)),
            ["c", "a", "b", "d"]
        );
        assert_eq!(ids(merge(entries, true, 1, 2)), ["a", "b"]);
    }
}
