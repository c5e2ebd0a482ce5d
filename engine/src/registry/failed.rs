//! Failed jobs across queues, newest first, as one order: score descending, then id descending
//! (each queue's own `ZREVRANGE` order), so any page of it is a merge of per-queue windows.
//!
//! A shallow page reads the newest `offset + limit` entries of every queue in one round trip. A
//! deep page first finds the score at merged position `offset` by bisecting on score with
//! `ZCOUNT` (one pipeline of `queues` commands per step, at most 64 steps, O(log n) each), then
//! reads `limit` entries (plus any ties at that score it must skip) from each queue from that
//! score down. Page 2,000 of a 100,000-job failed list costs about what page 1 does instead of
//! reading 100,000 entries from every queue.

use redis::Value;

use super::{page, rows, MAX_PAGE};
use crate::job::reply;
use crate::keys;
use crate::model::{JobList, JobSummary, Page};
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
    let keys: Vec<String> = queues.iter().map(|q| keys::failed(q)).collect();
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
    let mut merged = Vec::new();
    for pair in replies.chunks(if limit > 0 { 2 } else { 1 }) {
        total += count(pair.first());
        if let Some(v) = pair.get(1) {
            merged.extend(reply::scored(v));
        }
    }
    Ok((total, cut(merged, offset, limit)))
}

/// Finds the score at merged position `offset`, then reads each queue from that score down.
async fn deep(store: &Store, keys: &[String], offset: u64, limit: u64) -> Result<(u64, Scored)> {
    let mut p = redis::pipe();
    p.ignore_errors();
    for k in keys {
        p.cmd("ZCARD").arg(k);
        p.cmd("ZRANGE").arg(k).arg(0).arg(0).arg("WITHSCORES");
        p.cmd("ZREVRANGE").arg(k).arg(0).arg(0).arg("WITHSCORES");
    }
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let mut total = 0;
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for q in replies.chunks(3) {
        total += count(q.first());
        let end = |i: usize| q.get(i).map(reply::scored).unwrap_or_default();
        for (_, s) in end(1).into_iter().chain(end(2)) {
            let s = s.unwrap_or(f64::NEG_INFINITY);
            (low, high) = (low.min(s), high.max(s));
        }
    }
    if offset >= total {
        return Ok((total, Vec::new()));
    }

    // The merged entry at `offset` has the highest score s with count(score >= s) > offset.
    // Bisect over the order-preserving integer image of f64: `lo` always satisfies it, `hi`
    // never does (or is one past the highest score).
    let (mut lo, mut hi) = (ordered(low), ordered(high) + 1);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at_least(store, keys, &score_arg(unordered(mid)), "+inf").await? > offset {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let at = score_arg(unordered(lo));

    // Entries above that score come first; `skip` of the ties at it belong to earlier pages.
    let above = at_least(store, keys, &format!("({at}"), "+inf").await?;
    let take = (offset - above) + limit;
    let mut p = redis::pipe();
    p.ignore_errors();
    for k in keys {
        p.cmd("ZREVRANGEBYSCORE")
            .arg(k)
            .arg(&at)
            .arg("-inf")
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(take);
    }
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let merged = replies.iter().flat_map(reply::scored).collect();
    Ok((total, cut(merged, offset - above, limit)))
}

/// Σ `ZCOUNT key min max` over `keys`, in one pipeline.
async fn at_least(store: &Store, keys: &[String], min: &str, max: &str) -> Result<u64> {
    let mut p = redis::pipe();
    p.ignore_errors();
    for k in keys {
        p.cmd("ZCOUNT").arg(k).arg(min).arg(max);
    }
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    Ok(replies.iter().map(|v| count(Some(v))).sum())
}

/// Sorts newest first (score, then id, both descending: `ZREVRANGE`'s order) and cuts.
fn cut(mut merged: Scored, skip: u64, limit: u64) -> Scored {
    let score = |s: Option<f64>| s.unwrap_or(f64::NEG_INFINITY);
    merged.sort_by(|a, b| {
        score(b.1)
            .total_cmp(&score(a.1))
            .then_with(|| b.0.cmp(&a.0))
    });
    merged
        .into_iter()
        .skip(skip as usize)
        .take(limit as usize)
        .collect()
}

fn count(v: Option<&Value>) -> u64 {
    v.and_then(reply::int).unwrap_or(0).max(0) as u64
}

/// Maps f64 to u64 so that integer order is numeric order (finite values and infinities).
fn ordered(f: f64) -> u64 {
    let bits = f.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn unordered(u: u64) -> f64 {
    f64::from_bits(if u >> 63 == 1 { u & !(1 << 63) } else { !u })
}

/// A score as Redis parses it back exactly: shortest round-trip decimal, or ±inf.
fn score_arg(f: f64) -> String {
    match f {
        f64::INFINITY => "+inf".into(),
        f64::NEG_INFINITY => "-inf".into(),
        f => format!("{f:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_keeps_numeric_order_and_round_trips() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -0.0,
            0.0,
            1e-300,
            1.0,
            1_763_712_345.123_456,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(ordered(w[0]) <= ordered(w[1]), "{w:?}");
        }
        for x in xs {
            assert_eq!(unordered(ordered(x)).to_bits(), x.to_bits());
        }
        assert_eq!(score_arg(1_763_712_345.123_456), "1763712345.123456");
        assert_eq!(score_arg(f64::INFINITY), "+inf");
    }
}
