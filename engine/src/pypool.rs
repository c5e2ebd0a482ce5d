//! Supervised Python worker pools (`taskmill pool`): the Redis half. The process management
//! lives in the binary (`server/src/pool/`); here are the pool record, how a child `rq worker`
//! is recognised and adopted, and the `scale` command's channel.
//!
//! Record `taskmill:pool:<id>` (the same hash and set `taskmill:pools` as a Taskmill worker
//! process): `kind` = `python`, `command`, `min`, `max`, `concurrency` (= desired processes),
//! `actual` (running), `autoscale`, `hostname`, `pid`, `birth`, `last_heartbeat`; EXPIRE 60,
//! refreshed every few seconds. Children are matched by `pid` + `hostname` in their
//! `rq:worker:*` hash and get `taskmill_pool` = pool id (`lua/pool_adopt.lua`).
//! Commands: `{"command": "scale", "slots": N}` on `taskmill:pool:<id>:commands`.

use redis::Value;

use crate::command::Command;
use crate::reply;
use crate::scripts::POOL_ADOPT;
use crate::{keys, Error, Result, Store};

/// The record expires this long after the last refresh (a SIGKILLed supervisor disappears).
pub const RECORD_TTL: u64 = 60;

/// What a supervisor writes about itself.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolRecord {
    pub pool_id: String,
    pub command: String,
    pub min: u64,
    pub max: u64,
    pub desired: u64,
    pub actual: u64,
    /// `latency=30s`, `depth=100` or empty.
    pub autoscale: String,
    pub queues: Vec<String>,
    pub hostname: String,
    pub pid: u32,
    pub birth: f64,
}

/// Writes (or refreshes) the record and its TTL, and lists it in `taskmill:pools`.
pub async fn save(store: &Store, r: &PoolRecord) -> Result<()> {
    let key = keys::pool(&r.pool_id);
    redis::pipe()
        .cmd("HSET")
        .arg(&key)
        .arg("kind")
        .arg("python")
        .arg("command")
        .arg(&r.command)
        .arg("min")
        .arg(r.min)
        .arg("max")
        .arg(r.max)
        .arg("concurrency")
        .arg(r.desired)
        .arg("actual")
        .arg(r.actual)
        .arg("autoscale")
        .arg(&r.autoscale)
        .arg("queues")
        .arg(r.queues.join(","))
        .arg("hostname")
        .arg(&r.hostname)
        .arg("pid")
        .arg(r.pid)
        .arg("birth")
        .arg(crate::time::format_rq(r.birth))
        .arg("last_heartbeat")
        .arg(crate::time::format_rq(crate::time::now()))
        .ignore()
        .cmd("EXPIRE")
        .arg(&key)
        .arg(RECORD_TTL)
        .ignore()
        .cmd("SADD")
        .arg(keys::POOLS)
        .arg(&r.pool_id)
        .ignore()
        .query_async::<()>(&mut store.conn())
        .await?;
    Ok(())
}

/// Clean exit: record gone, out of the set.
pub async fn remove(store: &Store, pool_id: &str) -> Result<()> {
    redis::pipe()
        .cmd("DEL")
        .arg(keys::pool(pool_id))
        .ignore()
        .cmd("SREM")
        .arg(keys::POOLS)
        .arg(pool_id)
        .ignore()
        .query_async::<()>(&mut store.conn())
        .await?;
    Ok(())
}

/// RQ workers (from `rq:workers`) run by one of `pids` on `hostname` and not yet adopted:
/// `(worker name, pid)`. The supervisor calls this only while a child is unmatched.
pub async fn unmatched_children(
    store: &Store,
    hostname: &str,
    pids: &[u32],
) -> Result<Vec<(String, u32)>> {
    let mut conn = store.conn();
    let members: Value = redis::cmd("SMEMBERS")
        .arg(keys::WORKERS)
        .query_async(&mut conn)
        .await?;
    let names = crate::workers::names(&members);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = redis::pipe();
    for n in &names {
        p.cmd("HMGET")
            .arg(keys::worker(n))
            .arg(&["pid", "hostname", "taskmill_pool"]);
    }
    let rows: Vec<Value> = p.query_async(&mut conn).await?;
    Ok(names
        .into_iter()
        .zip(rows.iter())
        .filter_map(|(n, row)| {
            let f = reply::items(row);
            let pid = f.first().and_then(reply::int)? as u32;
            let host = f.get(1).and_then(reply::string)?;
            let adopted = f.get(2).and_then(reply::string).is_some();
            (!adopted && host == hostname && pids.contains(&pid)).then_some((n, pid))
        })
        .collect())
}

/// Marks `worker` as the pool's child if its hash still says `pid` on `hostname`.
pub async fn adopt(
    store: &Store,
    pool_id: &str,
    worker: &str,
    pid: u32,
    hostname: &str,
) -> Result<bool> {
    let n: i64 = POOL_ADOPT
        .key(keys::worker(worker))
        .arg(pool_id)
        .arg(pid)
        .arg(hostname)
        .invoke_async(&mut store.conn())
        .await?;
    Ok(n == 1)
}

/// The bounds of a live Python pool, `None` if `pool_id` names no Python pool.
pub async fn bounds(store: &Store, pool_id: &str) -> Result<Option<(u64, u64)>> {
    let v: Vec<Option<String>> = redis::cmd("HMGET")
        .arg(keys::pool(pool_id))
        .arg(&["kind", "min", "max"])
        .query_async(&mut store.conn())
        .await?;
    if v.first().cloned().flatten().as_deref() != Some("python") {
        return Ok(None);
    }
    let num = |i: usize| v.get(i).cloned().flatten().and_then(|s| s.parse().ok());
    Ok(Some((
        num(1).unwrap_or(1),
        num(2).unwrap_or(crate::limits::MAX_SLOTS),
    )))
}

/// Sends `scale` to a Python pool after checking its bounds; returns PUBLISH's receivers.
pub async fn scale(store: &Store, pool_id: &str, processes: u64) -> Result<u64> {
    let Some((min, max)) = bounds(store, pool_id).await? else {
        return Err(Error::NotFound(format!("no Python pool named {pool_id:?}")));
    };
    if !(min..=max).contains(&processes) {
        return Err(Error::Invalid(format!(
            "pool {pool_id} runs {min} to {max} processes (--min / --max), got {processes}"
        )));
    }
    Ok(redis::cmd("PUBLISH")
        .arg(keys::pool_commands(pool_id))
        .arg(Command::Scale { slots: processes }.to_payload())
        .query_async(&mut store.conn())
        .await?)
}

/// Autoscale input: jobs queued across `queues` and the age of the oldest queue head (seconds,
/// 0 when empty). Two pipelined round trips, read-only.
pub async fn pressure(store: &Store, queues: &[String], now: f64) -> Result<(u64, f64)> {
    if queues.is_empty() {
        return Ok((0, 0.0));
    }
    let mut conn = store.conn();
    let mut p = redis::pipe();
    for q in queues {
        p.cmd("LLEN").arg(keys::queue(q));
        p.cmd("LINDEX").arg(keys::queue(q)).arg(0);
    }
    let v: Vec<Value> = p.query_async(&mut conn).await?;
    let depth: u64 = v.iter().step_by(2).map(reply::count).sum();
    let heads: Vec<String> = v
        .iter()
        .skip(1)
        .step_by(2)
        .filter_map(reply::string)
        .collect();
    if heads.is_empty() {
        return Ok((depth, 0.0));
    }
    let mut p = redis::pipe();
    for id in &heads {
        p.cmd("HGET").arg(keys::job(id)).arg("enqueued_at");
    }
    let at: Vec<Option<String>> = p.query_async(&mut conn).await?;
    let oldest = at
        .iter()
        .flatten()
        .filter_map(|t| crate::time::parse_rq(t.trim()))
        .map(|t| (now - t).max(0.0))
        .fold(0.0, f64::max);
    Ok((depth, oldest))
}

/// This host's name as Python's `socket.gethostname()` gives it (children are matched on it).
pub fn hostname() -> String {
    crate::worker::hostname()
}
