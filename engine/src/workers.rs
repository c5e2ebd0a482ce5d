//! Reading `rq:workers` and `rq:worker:<w>` hashes. Never SREMs anything (unlike `Worker.all()`).

use std::collections::{BTreeSet, HashMap};

use redis::Value;

use crate::keys;
use crate::model::{PoolInfo, WorkerInfo};
use crate::reply::{self, field, Hash};
use crate::time::{now, parse_rq};
use crate::{Result, Store};

/// A worker whose last heartbeat is older than this is stale even if its hash is still there:
/// RQ's idle workers refresh at least every `worker_ttl - 15` = 405 s and let the key expire
/// after `worker_ttl + 60` = 480 s, so nothing alive is ever quieter than that.
pub const STALE_AFTER_SECS: f64 = 480.0;

/// Every worker listed in `rq:workers`; listed-but-missing hashes come back as `stale`.
pub async fn list(store: &Store) -> Result<Vec<WorkerInfo>> {
    let v: Vec<Value> = redis::pipe()
        .ignore_errors()
        .cmd("SMEMBERS")
        .arg(keys::WORKERS)
        .query_async(&mut store.conn())
        .await?;
    let names = names(v.first().unwrap_or(&Value::Nil));
    load(store, &names).await
}

/// Worker names from an `SMEMBERS rq:workers` reply, sorted.
pub(crate) fn names(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = reply::strings(v)
        .iter()
        .filter_map(|k| keys::worker_name_from_key(k).map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// One worker by name: `None` if it has no hash and is not listed in `rq:workers`.
pub async fn get(store: &Store, name: &str) -> Result<Option<WorkerInfo>> {
    let v: Vec<Value> = redis::pipe()
        .ignore_errors()
        .cmd("SISMEMBER")
        .arg(keys::WORKERS)
        .arg(keys::worker(name))
        .cmd("EXISTS")
        .arg(keys::worker(name))
        .query_async(&mut store.conn())
        .await?;
    let listed = v.first().and_then(reply::int) == Some(1);
    let exists = v.get(1).and_then(reply::int) == Some(1);
    if !listed && !exists {
        return Ok(None);
    }
    Ok(load(store, &[name.to_string()]).await?.pop())
}

/// Pipelined HGETALL of each worker, then one pipeline for the Taskmill pool records they name.
pub async fn load(store: &Store, names: &[String]) -> Result<Vec<WorkerInfo>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = store.conn();
    let mut p = redis::pipe();
    p.ignore_errors();
    for n in names {
        p.cmd("HGETALL").arg(keys::worker(n));
    }
    let hashes: Vec<Value> = p.query_async(&mut conn).await?;
    let hashes: Vec<Option<Hash>> = hashes.iter().map(reply::hash).collect();
    let pools = pool_sizes(store, hashes.iter().flatten()).await?;
    let t = now();
    Ok(names
        .iter()
        .zip(hashes.iter())
        .map(|(n, h)| from_hash(n, h.as_ref().filter(|h| !h.is_empty()), t, &pools))
        .collect())
}

/// The `taskmill:pool:<id>` record of every pool named by a `taskmill_pool` field: slot count
/// (`concurrency`; a Python pool's desired process count) and, for Python pools, the rest.
pub(crate) async fn pool_sizes<'a>(
    store: &Store,
    hashes: impl Iterator<Item = &'a Hash>,
) -> Result<HashMap<String, PoolInfo>> {
    let ids: BTreeSet<String> = hashes
        .filter_map(|h| field(h, "taskmill_pool").map(|s| s.into_owned()))
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut p = redis::pipe();
    p.ignore_errors();
    for id in &ids {
        p.cmd("HMGET")
            .arg(keys::pool(id))
            .arg(&["concurrency", "kind", "actual", "min", "max"]);
    }
    let v: Vec<Value> = p.query_async(&mut store.conn()).await?;
    Ok(ids
        .into_iter()
        .zip(v.iter())
        .map(|(id, v)| {
            let f = reply::items(v);
            let num = |i: usize| f.get(i).and_then(reply::int).map(|n| n.max(0) as u64);
            let info = PoolInfo {
                concurrency: num(0).unwrap_or(0),
                kind: f.get(1).and_then(reply::string),
                actual: num(2),
                min: num(3),
                max: num(4),
                pool_id: id.clone(),
            };
            (id, info)
        })
        .collect())
}

/// A `WorkerInfo` from its hash (`None` = the hash is gone) as of unix time `now`.
pub fn from_hash(
    name: &str,
    h: Option<&Hash>,
    now: f64,
    pools: &HashMap<String, PoolInfo>,
) -> WorkerInfo {
    let empty = Hash::new();
    let hh = h.unwrap_or(&empty);
    let text = |f: &str| field(hh, f).map(|s| s.into_owned());
    let ts = |f: &str| field(hh, f).and_then(|s| parse_rq(s.trim()));
    let num = |f: &str| field(hh, f).and_then(|s| reply::parse_float(&s));
    let last_heartbeat = ts("last_heartbeat");
    let heartbeat_age = last_heartbeat.map(|t| (now - t).max(0.0));
    let death = ts("death");
    let stale =
        h.is_none() || death.is_some() || heartbeat_age.is_some_and(|a| a > STALE_AFTER_SECS);
    let pool = text("taskmill_pool").map(|id| {
        pools.get(&id).cloned().unwrap_or(PoolInfo {
            pool_id: id,
            concurrency: 0,
            kind: None,
            actual: None,
            min: None,
            max: None,
        })
    });
    WorkerInfo {
        name: name.to_string(),
        hostname: text("hostname"),
        pid: field(hh, "pid").and_then(|s| s.trim().parse().ok()),
        ip_address: text("ip_address"),
        version: text("version"),
        python_version: text("python_version"),
        queues: text("queues")
            .map(|q| {
                q.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        state: text("state").unwrap_or_else(|| "?".into()),
        current_job: text("current_job"),
        current_job_working_time: num("current_job_working_time"),
        birth: ts("birth"),
        last_heartbeat,
        death,
        successful_job_count: num("successful_job_count").map_or(0, |f| f.max(0.0) as u64),
        failed_job_count: num("failed_job_count").map_or(0, |f| f.max(0.0) as u64),
        total_working_time: num("total_working_time").unwrap_or(0.0),
        heartbeat_age,
        stale,
        pool,
    }
}
