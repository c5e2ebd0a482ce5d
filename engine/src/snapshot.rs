//! The overview snapshot: O(queues + workers) commands in a few pipelines, shared by the
//! overview page, the live counters and `/metrics` (the server caches it for ≤ 1 s).
//!
//! Round trips: `SMEMBERS rq:queues`; one pipeline with LLEN + six ZCARDs + LINDEX 0 + the
//! scheduler lock per queue, plus `rq:workers`, `rq:suspended` and INFO; one pipeline with the
//! head jobs' `enqueued_at` and every worker hash; and the pool records if any worker names one.

use redis::Value;

use crate::keys;
use crate::model::{JobList, QueueCounts, RedisInfo, Snapshot, Totals};
use crate::reply;
use crate::time::{now, parse_rq};
use crate::workers;
use crate::{Result, Store};

/// Replies per queue in the first pipeline: LLEN, 6 × ZCARD, LINDEX, GET lock.
const PER_QUEUE: usize = 9;

pub async fn take(store: &Store) -> Result<Snapshot> {
    let mut conn = store.conn();
    let queues = crate::queue::list(store).await?;

    let mut p = redis::pipe();
    p.ignore_errors();
    for q in &queues {
        p.cmd("LLEN").arg(keys::queue(q));
        for list in &JobList::ALL[1..] {
            p.cmd("ZCARD").arg(crate::registry::key(q, *list));
        }
        p.cmd("LINDEX").arg(keys::queue(q)).arg(0);
        p.cmd("GET").arg(keys::scheduler_lock(q));
    }
    p.cmd("SMEMBERS").arg(keys::WORKERS);
    p.cmd("EXISTS").arg(keys::SUSPENDED);
    p.cmd("INFO").arg("server");
    p.cmd("INFO").arg("memory");
    p.cmd("INFO").arg("clients");
    let r: Vec<Value> = p.query_async(&mut conn).await?;
    let at = |i: usize| r.get(i).unwrap_or(&Value::Nil);
    let count = |i: usize| reply::count(at(i));

    let mut counts = Vec::with_capacity(queues.len());
    let mut heads = Vec::new();
    let mut scheduler_locks = Vec::new();
    for (qi, q) in queues.iter().enumerate() {
        let b = qi * PER_QUEUE;
        counts.push(QueueCounts {
            name: q.clone(),
            queued: count(b),
            started: count(b + 1),
            finished: count(b + 2),
            failed: count(b + 3),
            deferred: count(b + 4),
            scheduled: count(b + 5),
            canceled: count(b + 6),
            oldest_queued_age: None,
        });
        if let Some(head) = reply::string(at(b + 7)) {
            heads.push((qi, head));
        }
        if let Some(owner) = reply::string(at(b + 8)) {
            scheduler_locks.push((q.clone(), owner));
        }
    }
    let base = queues.len() * PER_QUEUE;
    let worker_names = workers::names(at(base));
    let suspended = reply::int(at(base + 1)) == Some(1);
    let info: String = (2..5)
        .filter_map(|i| reply::string(at(base + i)))
        .collect::<Vec<_>>()
        .join("\n");

    let mut p = redis::pipe();
    p.ignore_errors();
    for (_, head) in &heads {
        p.cmd("HGET").arg(keys::job(head)).arg("enqueued_at");
    }
    for w in &worker_names {
        p.cmd("HGETALL").arg(keys::worker(w));
    }
    let r2: Vec<Value> = if heads.is_empty() && worker_names.is_empty() {
        Vec::new()
    } else {
        p.query_async(&mut conn).await?
    };
    let taken_at = now();
    for ((qi, _), v) in heads.iter().zip(r2.iter()) {
        let t = reply::string(v).and_then(|s| parse_rq(s.trim()));
        counts[*qi].oldest_queued_age = t.map(|t| (taken_at - t).max(0.0));
    }
    let hashes: Vec<Option<reply::Hash>> = r2.iter().skip(heads.len()).map(reply::hash).collect();
    let pools = workers::pool_sizes(store, hashes.iter().flatten()).await?;
    let workers: Vec<_> = worker_names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let h = hashes
                .get(i)
                .and_then(|h| h.as_ref())
                .filter(|h| !h.is_empty());
            workers::from_hash(n, h, taken_at, &pools)
        })
        .collect();

    let mut totals = Totals::default();
    for c in &counts {
        totals.queued += c.queued;
        totals.started += c.started;
        totals.finished += c.finished;
        totals.failed += c.failed;
        totals.deferred += c.deferred;
        totals.scheduled += c.scheduled;
        totals.canceled += c.canceled;
    }
    for w in &workers {
        if w.stale {
            totals.workers_stale += 1;
        } else if w.state == "busy" {
            totals.workers_busy += 1;
        } else {
            totals.workers_idle += 1;
        }
    }
    Ok(Snapshot {
        taken_at,
        queues: counts,
        workers,
        totals,
        suspended,
        redis: parse_info(&info),
        scheduler_locks,
    })
}

/// The few INFO fields the console shows.
pub fn parse_info(info: &str) -> RedisInfo {
    let mut r = RedisInfo::default();
    for line in info.lines() {
        let Some((k, v)) = line.trim().split_once(':') else {
            continue;
        };
        match k {
            "redis_version" => r.version = v.to_string(),
            "used_memory" => r.used_memory = v.parse().unwrap_or(0),
            "used_memory_human" => r.used_memory_human = v.to_string(),
            "connected_clients" => r.connected_clients = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    r
}
