//! Celery queues as Flower cannot show them: every queue named in a binding set (so a queue
//! nobody consumes is listed), ready = the sum over its priority lists, reserved / ETA = the
//! messages workers hold in `unacked`, counted by routing key. Peeking reads (LRANGE), never
//! pops.
//!
//! Bounded: binding discovery is a SCAN of `_kombu.binding.*` cut at `SCAN_BUDGET` keys and
//! cached for `BINDINGS_TTL`; `unacked` is read with HSCAN up to `UNACKED_BUDGET` entries and
//! cached for `UNACKED_TTL` (a lower bound, flagged, when the hash is bigger). Pages therefore
//! cost a handful of LLENs per queue, whatever the broker holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::envelope;
use super::types::{CeleryMessage, CeleryQueue, CeleryQueuePage, CeleryQueues};
use super::Celery;
use crate::keys::celery as k;
use crate::Result;

pub const BINDINGS_TTL: Duration = Duration::from_secs(10);
pub const UNACKED_TTL: Duration = Duration::from_secs(2);
/// Keys examined by one binding discovery.
pub const SCAN_BUDGET: usize = 100_000;
/// `unacked` entries read by one tally.
pub const UNACKED_BUDGET: usize = 20_000;
/// Reserved messages kept per queue for its page.
pub const RESERVED_SAMPLE: usize = 20;
/// Largest page of messages.
pub const MAX_PEEK: u64 = 200;
/// Captured envelopes (for retry) larger than this are not kept.
pub const MAX_CAPTURE: usize = 256 * 1024;
/// How long a captured envelope is kept.
pub const CAPTURE_TTL: u64 = 7 * 86_400;

#[derive(Default)]
pub(crate) struct Cache {
    bindings: Mutex<Option<(Instant, Vec<String>, bool)>>,
    unacked: Mutex<Option<(Instant, Tally)>>,
    /// When this console first saw a message id at the head of a queue.
    first_seen: Mutex<HashMap<String, f64>>,
}

#[derive(Clone, Default)]
struct Tally {
    reserved: HashMap<String, u64>,
    eta: HashMap<String, u64>,
    samples: HashMap<String, Vec<CeleryMessage>>,
    scanned: u64,
    complete: bool,
}

/// Queue names from the binding sets (minus kombu's plumbing), cached.
async fn queue_names(c: &Celery) -> Result<(Vec<String>, bool)> {
    {
        let cached = c
            .queue_cache
            .bindings
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((at, names, complete)) = cached.as_ref() {
            if at.elapsed() < BINDINGS_TTL {
                return Ok((names.clone(), *complete));
            }
        }
    }
    let p = c.prefix().to_string();
    let mut conn = c.broker.conn();
    let mut cursor: u64 = 0;
    let mut examined = 0usize;
    let mut exchanges = BTreeSet::new();
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(k::binding_pattern(&p))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        examined += 1000;
        for key in keys {
            if let Some(ex) = k::exchange_of_binding(&p, &key) {
                if !k::SYSTEM_EXCHANGES.contains(&ex) {
                    exchanges.insert(ex.to_string());
                }
            }
        }
        cursor = next;
        if cursor == 0 || examined >= SCAN_BUDGET {
            break;
        }
    }
    let complete = cursor == 0;
    let mut names = BTreeSet::new();
    if !exchanges.is_empty() {
        let mut pipe = redis::pipe();
        for ex in &exchanges {
            pipe.cmd("SMEMBERS").arg(k::binding(&p, ex));
        }
        let sets: Vec<Vec<Vec<u8>>> = pipe.query_async(&mut conn).await?;
        let sep = c.transport.sep.as_bytes();
        for member in sets.iter().flatten() {
            if let Some(q) = queue_of_member(member, sep) {
                names.insert(q);
            }
        }
    }
    let names: Vec<String> = names.into_iter().collect();
    *c.queue_cache
        .bindings
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), names.clone(), complete));
    Ok((names, complete))
}

/// Field 3 of `routing_key SEP pattern SEP queue` (valid UTF-8 only).
fn queue_of_member(member: &[u8], sep: &[u8]) -> Option<String> {
    if sep.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = member;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        parts.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest);
    (parts.len() == 3 && !parts[2].is_empty())
        .then(|| String::from_utf8(parts[2].to_vec()).ok())
        .flatten()
}

/// One element of `unacked`: `[envelope, exchange, routing_key]`.
#[derive(Deserialize)]
struct Unacked(
    serde_json::Value,
    #[allow(dead_code)] serde::de::IgnoredAny,
    String,
);

async fn tally(c: &Celery) -> Result<Tally> {
    {
        let cached = c
            .queue_cache
            .unacked
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((at, t)) = cached.as_ref() {
            if at.elapsed() < UNACKED_TTL {
                return Ok(t.clone());
            }
        }
    }
    let key = k::unacked(c.prefix());
    let mut conn = c.broker.conn();
    let mut t = Tally::default();
    let mut cursor: u64 = 0;
    loop {
        let (next, flat): (u64, Vec<Vec<u8>>) = redis::cmd("HSCAN")
            .arg(&key)
            .arg(cursor)
            .arg("COUNT")
            .arg(500)
            .query_async(&mut conn)
            .await?;
        for value in flat.chunks(2).filter_map(|p| p.get(1)) {
            t.scanned += 1;
            let Ok(Unacked(env, _, rk)) = serde_json::from_slice::<Unacked>(value) else {
                *t.reserved.entry("(undecodable)".into()).or_default() += 1;
                continue;
            };
            let m = envelope::decode_json(&env, value.len());
            *t.reserved.entry(rk.clone()).or_default() += 1;
            if m.eta.is_some() {
                *t.eta.entry(rk.clone()).or_default() += 1;
            }
            let sample = t.samples.entry(rk).or_default();
            if sample.len() < RESERVED_SAMPLE {
                sample.push(m);
            }
        }
        cursor = next;
        if cursor == 0 || t.scanned as usize >= UNACKED_BUDGET {
            break;
        }
    }
    t.complete = cursor == 0;
    *c.queue_cache
        .unacked
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), t.clone()));
    Ok(t)
}

/// Every queue with its counts.
pub async fn list(c: &Celery) -> Result<CeleryQueues> {
    let (mut names, bindings_complete) = queue_names(c).await?;
    let t = tally(c).await?;
    // A queue only known from messages workers hold is still a queue.
    for rk in t.reserved.keys() {
        if !names.contains(rk) && !rk.starts_with('(') {
            names.push(rk.clone());
        }
    }
    names.sort();
    let queues = counts(c, &names, &t).await?;
    Ok(CeleryQueues {
        queues,
        unacked_scanned: t.scanned,
        unacked_complete: t.complete,
        bindings_complete,
    })
}

async fn counts(c: &Celery, names: &[String], t: &Tally) -> Result<Vec<CeleryQueue>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for q in names {
        for (_, key) in c.transport.lists(q) {
            pipe.cmd("LLEN").arg(&key);
            pipe.cmd("LINDEX").arg(key).arg(-1);
        }
    }
    let replies: Vec<redis::Value> = pipe.query_async(&mut c.broker.conn()).await?;
    let steps = c.transport.priority_steps.len();
    let now = crate::time::now();
    let online = c.workers();
    let mut out = Vec::with_capacity(names.len());
    let mut seen = c
        .queue_cache
        .first_seen
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if seen.len() > 100_000 {
        seen.clear();
    }
    for (i, q) in names.iter().enumerate() {
        let mut queue = CeleryQueue {
            name: q.clone(),
            reserved: t.reserved.get(q).copied().unwrap_or(0),
            eta: t.eta.get(q).copied().unwrap_or(0),
            consumers: online
                .iter()
                .filter(|w| w.online && w.queues.iter().any(|n| n == q))
                .count() as u64,
            ..Default::default()
        };
        for (j, step) in c.transport.priority_steps.iter().enumerate() {
            let base = (i * steps + j) * 2;
            let len = crate::reply::count(&replies[base]);
            queue.ready += len;
            if len > 0 {
                queue.by_priority.insert(*step, len);
            }
            if let redis::Value::BulkString(tail) = &replies[base + 1] {
                if let Some(id) = envelope::decode(tail).id {
                    let first = *seen.entry(id).or_insert(now);
                    let age = now - first;
                    queue.oldest_age_s = Some(queue.oldest_age_s.map_or(age, |a: f64| a.max(age)));
                }
            }
        }
        out.push(queue);
    }
    Ok(out)
}

/// One queue: counts, a page of messages in consumption order (step 0's oldest first), and a
/// sample of its reserved messages. Peeked messages are also captured (see `capture`).
pub async fn page(c: &Celery, queue: &str, offset: u64, limit: u64) -> Result<CeleryQueuePage> {
    crate::limits::validate_queue_name(queue)?;
    let limit = limit.min(MAX_PEEK);
    let t = tally(c).await?;
    let counted = counts(c, &[queue.to_string()], &t).await?.remove(0);
    let mut conn = c.broker.conn();
    let mut messages = Vec::new();
    let mut skip = offset;
    let mut want = limit;
    let mut raws = Vec::new();
    for (step, key) in c.transport.lists(queue) {
        let len = counted.by_priority.get(&step).copied().unwrap_or(0);
        if want == 0 {
            break;
        }
        if skip >= len {
            skip -= len;
            continue;
        }
        // Index -1 is consumed next: read backwards from there.
        let start = -((skip + want).min(len) as i64);
        let stop = -(skip as i64) - 1;
        let mut items: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg(&key)
            .arg(start)
            .arg(stop)
            .query_async(&mut conn)
            .await?;
        items.reverse();
        want -= items.len() as u64;
        skip = 0;
        raws.extend(items);
    }
    for raw in &raws {
        let m = envelope::decode(raw);
        messages.push(m);
    }
    capture(c, queue, &raws, &messages).await;
    Ok(CeleryQueuePage {
        reserved: t.samples.get(queue).cloned().unwrap_or_default(),
        queue: counted,
        messages,
        offset,
        limit,
    })
}

/// Keeps the original envelope of each peeked task (`taskmill:celery:msg:<id>`, SET NX with a
/// TTL), so a failed task can later be retried by re-publishing exactly what its producer sent.
/// Taskmill's own keys only; a failure is logged, never fails the page.
async fn capture(c: &Celery, queue: &str, raws: &[Vec<u8>], messages: &[CeleryMessage]) {
    let mut pipe = redis::pipe();
    let mut n = 0;
    for (raw, m) in raws.iter().zip(messages) {
        let Some(id) = m.id.as_deref() else { continue };
        if raw.len() > MAX_CAPTURE
            || m.undecodable.is_some()
            || crate::limits::validate_job_id(id).is_err()
        {
            continue;
        }
        let stored = serde_json::json!({"queue": queue,
                                        "envelope": String::from_utf8_lossy(raw)});
        pipe.cmd("SET")
            .arg(k::message(id))
            .arg(stored.to_string())
            .arg("NX")
            .arg("EX")
            .arg(CAPTURE_TTL)
            .ignore();
        n += 1;
    }
    if n > 0 {
        if let Err(e) = pipe.query_async::<()>(&mut c.broker.conn()).await {
            tracing::debug!(error = %e, "celery: could not capture peeked messages");
        }
    }
}

/// Counts by queue as a map (tests, `/metrics`).
pub fn by_name(q: &CeleryQueues) -> BTreeMap<String, CeleryQueue> {
    q.queues
        .iter()
        .map(|q| (q.name.clone(), q.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_members() {
        let sep = k::SEP.as_bytes();
        assert_eq!(
            queue_of_member(b"celery\x06\x16\x06\x16q_high", sep).as_deref(),
            Some("q_high")
        );
        assert_eq!(queue_of_member(b"no separators", sep), None);
        assert_eq!(queue_of_member(b"a\x06\x16\x06\x16", sep), None);
        assert_eq!(queue_of_member(b"a\x06\x16\x06\x16\xff", sep), None);
    }
}
