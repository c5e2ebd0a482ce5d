//! The bounded scan behind a search. The source is chosen from the filters: `queue:` and/or
//! `status:` walk only the matching lists and registries (LRANGE / ZRANGE windows by offset);
//! anything else walks the job keyspace with `SCAN MATCH rq:job:* COUNT n`. Each step reads one
//! window of ids and one pipeline of HMGETs (only the fields the query needs, plus the latest
//! results-stream entry when exception text matters), so Redis never runs a long command. A
//! call stops at `limit` matches, at the end of the source, or when its budget (jobs examined,
//! wall time) runs out, and says where it stopped.

use std::time::{Duration, Instant};

use redis::Value;

use super::cursor::Cursor;
use super::matcher::{self, Fields};
use super::query::Query;
use crate::{keys, limits, reply, Result, Store};

/// The lists a queue's jobs live in, in scan order (`Cursor::list` indexes this).
pub const LISTS: [&str; 7] = [
    "queued",
    "started",
    "finished",
    "failed",
    "deferred",
    "scheduled",
    "canceled",
];

/// Most jobs examined and longest time spent per call.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub jobs: u64,
    pub time: Duration,
}

/// Where one call got to.
pub struct Scanned {
    pub ids: Vec<String>,
    /// Where to continue, `None` when the source is exhausted.
    pub next: Option<Cursor>,
    /// Jobs examined in total, including the pages before.
    pub scanned: u64,
}

/// The list segments a query walks, sorted by (queue, list); `None`: the keyspace.
async fn plan(store: &Store, q: &Query) -> Result<Option<Vec<(String, u8)>>> {
    let list = match q.status.as_deref() {
        None => None,
        // A created job is in no list.
        Some("created") => return Ok(None),
        // RQ files a stopped job in the failed registry.
        Some("stopped") => Some(3u8),
        Some(s) => LISTS.iter().position(|l| *l == s).map(|i| i as u8),
    };
    let queues = match &q.queue {
        Some(name) => vec![name.clone()],
        None if list.is_some() => {
            let mut all = crate::queue::list(store).await?;
            all.retain(|n| limits::validate_queue_name(n).is_ok());
            all.sort();
            all
        }
        None => return Ok(None),
    };
    let lists: Vec<u8> = match list {
        Some(l) => vec![l],
        None => (0..LISTS.len() as u8).collect(),
    };
    Ok(Some(
        queues
            .into_iter()
            .flat_map(|q| lists.iter().map(move |l| (q.clone(), *l)))
            .collect(),
    ))
}

/// Runs from `at` until `limit` matches, the source's end or the budget.
pub async fn run(
    store: &Store,
    q: &Query,
    mut at: Cursor,
    limit: usize,
    budget: Budget,
) -> Result<Scanned> {
    let started = Instant::now();
    let segments = plan(store, q).await?;
    let names = matcher::field_names(q);
    let mut ids = Vec::new();
    let mut examined = 0u64;
    let mut conn = store.conn();
    // The segment `at` points into (first planned one at or after it).
    let mut seg = match &segments {
        Some(s) => s.partition_point(|(queue, list)| (queue, *list) < (&at.queue, at.list)),
        None => 0,
    };
    if let Some(s) = &segments {
        if s.get(seg)
            .is_some_and(|(q, l)| (q, *l) != (&at.queue, at.list))
        {
            at.pos = 0;
        }
    }
    loop {
        if ids.len() >= limit || examined >= budget.jobs || started.elapsed() >= budget.time {
            return Ok(Scanned {
                ids,
                scanned: at.scanned,
                next: Some(at),
            });
        }
        // One window of ids, and where the window after it starts.
        let (window, next_pos): (Vec<String>, Option<u64>) = match &segments {
            None => {
                let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                    .arg(at.pos)
                    .arg("MATCH")
                    .arg(keys::JOB_SCAN_PATTERN)
                    .arg("COUNT")
                    .arg(limits::SEARCH_STEP)
                    .query_async(&mut conn)
                    .await?;
                let ids = keys
                    .iter()
                    .filter_map(|k| std::str::from_utf8(k).ok())
                    .filter_map(|k| k.strip_prefix(keys::JOB_PREFIX))
                    // `rq:job:<id>:dependents` and the like are not jobs.
                    .filter(|id| limits::validate_job_id(id).is_ok())
                    .map(str::to_string)
                    .collect();
                (ids, (next != 0).then_some(next))
            }
            Some(segs) => {
                let Some((queue, list)) = segs.get(seg) else {
                    return Ok(Scanned {
                        ids,
                        next: None,
                        scanned: at.scanned,
                    });
                };
                let (queue, list) = (queue.clone(), *list);
                at.queue.clone_from(&queue);
                at.list = list;
                let ids = window(store, &queue, list, at.pos).await?;
                let next = (ids.len() as u64 == limits::SEARCH_STEP)
                    .then_some(at.pos + limits::SEARCH_STEP);
                (ids, next)
            }
        };
        let skip = at.skip as usize;
        let todo: Vec<String> = window.into_iter().skip(skip).collect();
        let fields = fetch(&mut conn, q, &names, &todo).await?;
        let mut stopped_at = None;
        for (i, (id, f)) in todo.iter().zip(fields).enumerate() {
            examined += 1;
            at.scanned += 1;
            if matcher::matches(q, &f) {
                ids.push(id.clone());
                if ids.len() >= limit {
                    stopped_at = Some(i + 1);
                    break;
                }
            }
        }
        match stopped_at {
            // Stopped inside the window: resume right after the last job examined.
            Some(done) if done < todo.len() => {
                if segments.is_some() {
                    at.pos += (skip + done) as u64;
                } else {
                    at.skip += done as u32;
                }
                continue;
            }
            _ => {}
        }
        at.skip = 0;
        match next_pos {
            Some(p) => at.pos = p,
            None if segments.is_none() => {
                return Ok(Scanned {
                    ids,
                    next: None,
                    scanned: at.scanned,
                })
            }
            None => {
                seg += 1;
                at.pos = 0;
                match segments.as_ref().and_then(|s| s.get(seg)) {
                    Some((queue, list)) => {
                        at.queue.clone_from(queue);
                        at.list = *list;
                    }
                    None => {
                        return Ok(Scanned {
                            ids,
                            next: None,
                            scanned: at.scanned,
                        })
                    }
                }
            }
        }
    }
}

/// One window of a queue's list or registry, as job ids.
async fn window(store: &Store, queue: &str, list: u8, pos: u64) -> Result<Vec<String>> {
    let key = match list {
        0 => keys::queue(queue),
        1 => keys::started(queue),
        2 => keys::finished(queue),
        3 => keys::failed(queue),
        4 => keys::deferred(queue),
        5 => keys::scheduled(queue),
        _ => keys::canceled(queue),
    };
    let cmd = if list == 0 { "LRANGE" } else { "ZRANGE" };
    let end = pos + limits::SEARCH_STEP - 1;
    // A key of another type (corrupt data) is an empty window, not a failed search; only a
    // connection error fails the call.
    let mut replies: Vec<Value> = redis::pipe()
        .ignore_errors()
        .cmd(cmd)
        .arg(&key)
        .arg(pos)
        .arg(end)
        .query_async(&mut store.conn())
        .await?;
    let v = replies.pop().unwrap_or(Value::Nil);
    Ok(reply::strings(&v)
        .into_iter()
        .map(|m| keys::parse_started_member(&m).0.to_string())
        .collect())
}

/// One pipeline: an HMGET of `names` per id, plus the latest results entry when needed.
async fn fetch(
    conn: &mut redis::aio::ConnectionManager,
    q: &Query,
    names: &[&'static str],
    ids: &[String],
) -> Result<Vec<Fields>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let with_results = q.needs_text();
    let mut p = redis::pipe();
    p.ignore_errors();
    for id in ids {
        p.cmd("HMGET").arg(keys::job(id)).arg(names);
        if with_results {
            p.cmd("XREVRANGE")
                .arg(keys::results(id))
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1);
        }
    }
    let replies: Vec<Value> = p.query_async(conn).await?;
    let mut replies = replies.into_iter();
    let mut out = Vec::with_capacity(ids.len());
    for _ in ids {
        let h = replies.next().unwrap_or(Value::Nil);
        let values = if reply::is_error(&h) {
            Vec::new()
        } else {
            reply::into_items(h)
                .into_iter()
                .map(reply::into_bytes)
                .collect()
        };
        let mut f = Fields::from_values(names, values);
        if with_results {
            let r = replies.next().unwrap_or(Value::Nil);
            f.exc_string = reply::stream_entries(&r)
                .into_iter()
                .next()
                .and_then(|(_, h)| h.get("exc_string").cloned())
                .filter(|b| !b.is_empty());
        }
        out.push(f);
    }
    Ok(out)
}
