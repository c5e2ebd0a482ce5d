//! Queues: `rq:queues` membership and the `rq:queue:<q>` lists. Read-only here; writes live in
//! `enqueue` and `actions`.

use redis::Value;

use crate::keys;
use crate::reply;
use crate::{Result, Store};

/// Every queue in `rq:queues`, sorted by name. Members that are not `rq:queue:<q>` keys are
/// skipped; a wrong-typed `rq:queues` reads as no queues.
pub async fn list(store: &Store) -> Result<Vec<String>> {
    let v: Vec<Value> = redis::pipe()
        .ignore_errors()
        .cmd("SMEMBERS")
        .arg(keys::QUEUES)
        .query_async(&mut store.conn())
        .await?;
    Ok(names(v.first().unwrap_or(&Value::Nil)))
}

/// Queue names from an `SMEMBERS rq:queues` reply, sorted.
pub(crate) fn names(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = reply::strings(v)
        .iter()
        .filter_map(|k| keys::queue_name_from_key(k).map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether `name` is a known queue (member of `rq:queues`).
pub async fn exists(store: &Store, name: &str) -> Result<bool> {
    let v: Vec<Value> = redis::pipe()
        .ignore_errors()
        .cmd("SISMEMBER")
        .arg(keys::QUEUES)
        .arg(keys::queue(name))
        .query_async(&mut store.conn())
        .await?;
    Ok(v.first().and_then(reply::int) == Some(1))
}
