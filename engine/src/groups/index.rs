//! The incremental failure-group index, kept in Taskmill's own keys (`taskmill:fg:*`, see
//! `keys.rs` and `lua/groups_lib.lua`). RQ's keys are only read.
//!
//! A *pass* walks every failed registry with ZSCAN in slices of [`SLICE`]: `groups_scan.lua`
//! returns the failures the index does not hold with their current registry score (so only
//! those are read and decoded), `groups_apply.lua` adds them if the registry still holds them.
//! Then it walks the index with HSCAN: `groups_prune.lua` drops what is no longer failed with
//! that score — requeued, deleted or expired by anyone (Python RQ, rq-dashboard, TTL cleanup).
//! When a pass ends, `as_of` becomes the time it began: every change made before then is in
//! the index. Each slice is one bounded call; a pass resumes where the last one stopped
//! (`taskmill:fg:state`), whoever drives it: the console's background task, or a request
//! finding the index stale with a small budget. Drivers take `taskmill:fg:lock` so two do not
//! duplicate work; the scripts are idempotent, so correctness does not depend on the lock.

use std::time::{Duration, Instant};

use redis::Value;

use super::fingerprint::{self, UNDECODABLE};
use crate::codec;
use crate::keys;
use crate::reply;
use crate::result;
use crate::scripts::{DATA_HEADS, GROUPS_APPLY, GROUPS_PRUNE, GROUPS_SCAN};
use crate::{Result, Store};

/// Registry / index entries per script call: about a millisecond of Redis time each, so a
/// page request never waits long behind the index.
pub const SLICE: usize = 250;
/// Longest function name and example kept per failure / group.
const MAX_FUNC: usize = 200;
const MAX_EXAMPLE: usize = 300;

/// Where the index stands after `advance`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Start of the last complete pass (unix seconds); `None` before the first one ends.
    pub as_of: Option<f64>,
    /// Failures decoded and indexed by this call.
    pub indexed: u64,
    /// Entries dropped by this call.
    pub dropped: u64,
    /// Whether this call finished a pass.
    pub pass_done: bool,
}

#[derive(Debug, Default)]
struct State {
    prune: bool,
    /// Queue being scanned; empty before the pass's first queue.
    queue: String,
    cursor: String,
    pass_start: Option<f64>,
    as_of: Option<f64>,
}

/// Start of the last complete pass, if any.
pub async fn as_of(store: &Store) -> Result<Option<f64>> {
    let v: Option<String> = redis::cmd("HGET")
        .arg(keys::FG_STATE)
        .arg("as_of")
        .query_async(&mut store.conn())
        .await?;
    Ok(v.and_then(|s| s.parse().ok()))
}

/// Advances the index for about `budget` (at least one slice), or until a pass ends. `None`
/// when another driver holds the lock.
pub async fn advance(store: &Store, budget: Duration) -> Result<Option<Progress>> {
    let token = format!("{:016x}", rand::random::<u64>());
    let lock_ms = budget.as_millis() as u64 + 30_000;
    let mut conn = store.conn();
    let got: Option<String> = redis::cmd("SET")
        .arg(keys::FG_LOCK)
        .arg(&token)
        .arg("NX")
        .arg("PX")
        .arg(lock_ms)
        .query_async(&mut conn)
        .await?;
    if got.is_none() {
        return Ok(None);
    }
    let out = run(store, budget).await;
    // Compare-and-delete: a lock that expired and was taken by someone else stays theirs.
    let _: redis::RedisResult<i64> = redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
    .key(keys::FG_LOCK)
    .arg(&token)
    .invoke_async(&mut conn)
    .await;
    out.map(Some)
}

/// Runs the index to the end of a full pass (waiting for another driver's lock if need be):
/// afterwards `as_of` is no older than this call.
pub async fn catch_up(store: &Store) -> Result<Progress> {
    let t0 = crate::time::now();
    let mut total = Progress::default();
    // The pass in progress may have begun before this call: finish it, then run a whole one.
    loop {
        match advance(store, Duration::from_secs(3600)).await? {
            Some(p) => {
                total.indexed += p.indexed;
                total.dropped += p.dropped;
                total.as_of = p.as_of;
                total.pass_done |= p.pass_done;
                if p.as_of.is_some_and(|a| a >= t0) {
                    return Ok(total);
                }
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// What a read does before answering: when the index is older than `max_age` seconds (no
/// background driver), it advances it within `budget`. Never fails the read.
pub async fn refresh_if_stale(store: &Store, max_age: f64, budget: Duration) {
    let stale = match as_of(store).await {
        Ok(Some(t)) => crate::time::now() - t > max_age,
        Ok(None) => true,
        Err(_) => return,
    };
    if stale {
        if let Err(e) = advance(store, budget).await {
            tracing::warn!(error = %e, "failure-group index: could not advance");
        }
    }
}

async fn run(store: &Store, budget: Duration) -> Result<Progress> {
    let deadline = Instant::now() + budget;
    let mut st = load(store).await?;
    let queues = crate::queue::list(store).await?;
    let queues: Vec<String> = queues
        .into_iter()
        .filter(|q| crate::limits::validate_queue_name(q).is_ok())
        .collect();
    let mut out = Progress::default();
    let mut conn = store.conn();
    loop {
        if st.pass_start.is_none() {
            st.pass_start = Some(crate::time::now());
        }
        if !st.prune {
            if st.queue.is_empty() || !queues.contains(&st.queue) && st.cursor != "0" {
                // Pass start, or the queue vanished mid-scan: go on with the next name.
                let next = queues.iter().find(|q| **q > st.queue).cloned();
                st.cursor = "0".into();
                match next {
                    Some(q) => st.queue = q,
                    None => st.prune = true,
                }
                continue;
            }
            let (next, unseen): (String, Vec<Vec<u8>>) = GROUPS_SCAN
                .arg(&st.queue)
                .arg(&st.cursor)
                .arg(SLICE)
                .invoke_async(&mut conn)
                .await?;
            // A registry member that is not a job id (any bytes can be written there) names
            // no job: it is left to the failed list, which shows it as missing.
            let unseen: Vec<String> = unseen
                .chunks(2)
                .filter_map(|pair| match pair {
                    [id, score] => Some((
                        String::from_utf8(id.clone()).ok()?,
                        String::from_utf8(score.clone()).ok()?,
                    )),
                    _ => None,
                })
                .filter(|(id, _)| crate::limits::validate_job_id(id).is_ok())
                .flat_map(|(id, score)| [id, score])
                .collect();
            if !unseen.is_empty() {
                out.indexed += index_slice(store, &st.queue, &unseen).await?;
            }
            st.cursor = next;
            if st.cursor == "0" {
                match queues.iter().find(|q| **q > st.queue).cloned() {
                    Some(q) => st.queue = q,
                    None => st.prune = true,
                }
            }
        } else {
            let (next, dropped, _checked): (String, u64, u64) = GROUPS_PRUNE
                .arg("scan")
                .arg(&st.cursor)
                .arg(SLICE)
                .invoke_async(&mut conn)
                .await?;
            out.dropped += dropped;
            st.cursor = next;
            if st.cursor == "0" {
                st.as_of = st.pass_start;
                st = State {
                    as_of: st.as_of,
                    cursor: "0".into(),
                    ..State::default()
                };
                out.pass_done = true;
            }
        }
        if out.pass_done || Instant::now() >= deadline {
            break;
        }
    }
    out.as_of = st.as_of;
    save(store, &st).await?;
    Ok(out)
}

async fn load(store: &Store) -> Result<State> {
    let v: Value = redis::cmd("HGETALL")
        .arg(keys::FG_STATE)
        .query_async(&mut store.conn())
        .await?;
    let h = reply::hash(&v).unwrap_or_default();
    let get = |k: &str| reply::field(&h, k).map(|s| s.into_owned());
    Ok(State {
        prune: get("phase").as_deref() == Some("prune"),
        queue: get("queue").unwrap_or_default(),
        cursor: get("cursor").unwrap_or_else(|| "0".into()),
        pass_start: get("pass_start").and_then(|s| s.parse().ok()),
        as_of: get("as_of").and_then(|s| s.parse().ok()),
    })
}

async fn save(store: &Store, st: &State) -> Result<()> {
    let opt = |v: Option<f64>| v.map(|t| t.to_string()).unwrap_or_default();
    let _: () = redis::pipe()
        .atomic()
        .cmd("DEL")
        .arg(keys::FG_STATE)
        .ignore()
        .cmd("HSET")
        .arg(keys::FG_STATE)
        .arg("phase")
        .arg(if st.prune { "prune" } else { "scan" })
        .arg("queue")
        .arg(&st.queue)
        .arg("cursor")
        .arg(&st.cursor)
        .arg("pass_start")
        .arg(opt(st.pass_start))
        .arg("as_of")
        .arg(opt(st.as_of))
        .ignore()
        .query_async(&mut store.conn())
        .await?;
    Ok(())
}

/// One decoded failure, ready for `groups_apply.lua`.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The hash's `ended_at` as read (empty if none): with the registry score, what tells
    /// this failure from the job's next one (RQ's scores have whole seconds).
    pub ended_raw: Vec<u8>,
    pub fingerprint: String,
    pub func: String,
    pub at: f64,
    pub exc_type: String,
    pub example: String,
}

/// Reads and decodes `unseen` (id, score pairs of one queue) and applies them in one script.
async fn index_slice(store: &Store, queue: &str, unseen: &[String]) -> Result<u64> {
    let (ids, scores): (Vec<&String>, Vec<&String>) = unseen
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| (&c[0], &c[1]))
        .unzip();
    let ids: Vec<String> = ids.into_iter().cloned().collect();
    let entries = read_entries(store, &ids).await?;
    let mut inv = GROUPS_APPLY.prepare_invoke();
    inv.arg(queue);
    for ((id, score), e) in ids.iter().zip(scores).zip(&entries) {
        inv.arg(id)
            .arg(score)
            .arg(&e.ended_raw)
            .arg(&e.fingerprint)
            .arg(&e.func)
            .arg(e.at)
            .arg(&e.exc_type)
            .arg(&e.example);
    }
    Ok(inv.invoke_async(&mut store.conn()).await?)
}

/// The entry of each id from its hash's `exc_info` / `ended_at`, the head of `data` and its
/// latest result's `exc_string`, in one round trip. Never fails on bad data.
pub async fn read_entries(store: &Store, ids: &[String]) -> Result<Vec<Entry>> {
    let mut p = redis::pipe();
    p.ignore_errors();
    for id in ids {
        p.cmd("HMGET")
            .arg(keys::job(id))
            .arg("exc_info")
            .arg("ended_at");
    }
    let script_keys: Vec<String> = ids
        .iter()
        .map(|id| keys::job(id))
        .chain(ids.iter().map(|id| keys::results(id)))
        .collect();
    p.cmd("EVAL")
        .arg(DATA_HEADS)
        .arg(script_keys.len())
        .arg(&script_keys)
        .arg(crate::job::DATA_PREFIX)
        .arg("1");
    let mut replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let heads = replies.pop().map(reply::into_items).unwrap_or_default();
    let mut heads = heads.into_iter();
    let now = crate::time::now();
    Ok(replies
        .into_iter()
        .map(|fields| {
            let (head, exc) = (heads.next(), heads.next());
            let f = reply::into_items(fields);
            let exc_info = f.first().and_then(reply::bytes);
            let ended = f.get(1).and_then(reply::bytes).unwrap_or_default();
            entry(head, exc, exc_info, ended, now)
        })
        .collect())
}

fn entry(
    head: Option<Value>,
    exc_string: Option<Value>,
    exc_info: Option<Vec<u8>>,
    ended_raw: Vec<u8>,
    now: f64,
) -> Entry {
    let at = std::str::from_utf8(&ended_raw)
        .ok()
        .and_then(|s| crate::time::parse_rq(s.trim()))
        .unwrap_or(now);
    let func = match &head {
        Some(Value::BulkString(b)) => codec::func_name_hint(b).unwrap_or_default(),
        _ => String::new(),
    };
    let func: String = func.chars().take(MAX_FUNC).collect();
    let undecodable = |why: &str| Entry {
        ended_raw: ended_raw.clone(),
        fingerprint: UNDECODABLE.into(),
        func: func.clone(),
        at,
        exc_type: String::new(),
        example: format!("undecodable: {why}"),
    };
    if !matches!(head, Some(Value::BulkString(_)) | Some(Value::Int(1))) {
        return undecodable("no readable job hash");
    }
    let text = match (exc_string, exc_info) {
        (Some(Value::BulkString(b)), _) if !b.is_empty() => result::decode_exc_string(&b),
        (_, Some(b)) if !b.is_empty() => {
            match codec::zlib::inflate_or_raw(&b, result::MAX_EXC_BYTES) {
                Ok(t) => String::from_utf8_lossy(&t).into_owned(),
                Err(_) => return undecodable("exc_info is not zlib"),
            }
        }
        _ => return undecodable("no traceback"),
    };
    if text.contains(['\0', '\u{fffd}']) {
        return undecodable("traceback is not text");
    }
    match fingerprint::parse(&text) {
        Some(f) => Entry {
            ended_raw,
            fingerprint: f.fingerprint(),
            func,
            at,
            exc_type: f.exc_type.clone(),
            example: f.example().chars().take(MAX_EXAMPLE).collect(),
        },
        None => undecodable("empty traceback"),
    }
}
