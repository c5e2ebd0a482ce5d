//! Completing chords: the tick (members that ended outside Taskmill's finish script) and the
//! one-shot enqueue of a ready chord's callback with the members' results.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use redis::Value;
use serde_json::{json, Map};

use crate::enqueue::{self, NewJob};
use crate::reply::text;
use crate::scripts::{CHORD_FIRE, CHORD_TICK};
use crate::{keys, time, Error, Result, Store};

/// Chords checked per tick (each walks at most `MAX_GROUP_MEMBERS` members).
const PER_TICK: usize = 20;
/// A waiting chord is rechecked for members that ended elsewhere this often (seconds).
const RECHECK_SECS: u64 = 2;

/// One tick: completes due chords whose members all ended, fires the ready ones. Returns the
/// callbacks enqueued by this call.
pub async fn tick(store: &Store) -> Result<usize> {
    let now = time::now();
    let ready: Vec<String> = CHORD_TICK
        .prepare_invoke()
        .arg(now.to_string())
        .arg(time::format_rq(now))
        .arg(PER_TICK)
        .arg(RECHECK_SECS)
        .invoke_async(&mut store.conn())
        .await?;
    let mut fired = 0;
    for name in ready {
        if fire(store, &name).await? {
            fired += 1;
        }
    }
    Ok(fired)
}

/// Enqueues the callback of chord `name` if it is `ready`; `false` if it was not (already
/// fired by someone else, failed, or waiting). Safe to call from any number of processes.
pub async fn fire(store: &Store, name: &str) -> Result<bool> {
    let mut conn = store.conn();
    let (status, callback): (Option<String>, Option<String>) = redis::cmd("HMGET")
        .arg(keys::chord(name))
        .arg("status")
        .arg("callback")
        .query_async(&mut conn)
        .await?;
    if status.as_deref() != Some("ready") {
        return Ok(false);
    }
    let mut job: NewJob = serde_json::from_str(callback.as_deref().unwrap_or_default())
        .map_err(|e| Error::Invalid(format!("chord {name:?}: bad callback: {e}")))?;
    let mut ids: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys::chord_members(name))
        .query_async(&mut conn)
        .await?;
    ids.sort();
    let mut p = redis::pipe();
    for id in &ids {
        p.hget(keys::job(id), "status");
        p.cmd("XREVRANGE")
            .arg(keys::results(id))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1);
    }
    let replies: Vec<Value> = p.query_async(&mut conn).await?;
    let (mut statuses, mut results) = (Map::new(), Map::new());
    for (i, id) in ids.iter().enumerate() {
        let st = replies
            .get(2 * i)
            .and_then(text)
            .unwrap_or_else(|| "gone".into());
        statuses.insert(id.clone(), json!(st));
        if let Some(v) = replies.get(2 * i + 1).and_then(json_result) {
            results.insert(id.clone(), v);
        }
    }
    let summary = json!({"group": name, "ids": ids, "statuses": statuses, "results": results});
    job.args.insert(0, summary);
    let (id, queue, fields) = enqueue::plain_fields(job)?;
    let mut inv = CHORD_FIRE.prepare_invoke();
    inv.key(keys::chord(name))
        .key(keys::QUEUES)
        .key(keys::job(&id))
        .key(keys::queue(&queue))
        .key(keys::CHORDS_OPEN)
        .arg(name)
        .arg(time::format_rq(time::now()))
        .arg(&id);
    for (f, v) in &fields {
        inv.arg(*f).arg(v.as_slice());
    }
    let out: String = inv.invoke_async(&mut conn).await?;
    Ok(out == "fired")
}

/// The JSON value of a successful result entry (`XREVRANGE ... COUNT 1` reply), if the worker
/// used the JSON serializer; pickled results are left out (a callback in another language could
/// not read them anyway).
fn json_result(v: &Value) -> Option<serde_json::Value> {
    let entries = crate::reply::stream_entries(v);
    let (_, h) = entries.first()?;
    if crate::reply::field(h, "type").as_deref() != Some("1") {
        return None;
    }
    let raw = B64.decode(h.get("return_value")?.trim_ascii()).ok()?;
    serde_json::from_slice(&raw).ok()
}
