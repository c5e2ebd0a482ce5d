//! Celery tasks as Taskmill records them: every `task-*` event is applied to a hash per task by
//! one Lua script (`celery_record.lua`), deduplicated by event type and timestamp so several
//! consoles share one history, capped at `CAP` tasks and expiring after `TTL`. Reads page
//! through per-state / per-name zsets, and the task page merges the result backend's meta
//! (result, traceback, children; name / args / worker with `result_extended`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::types::{CeleryTask, CeleryTaskPage, CeleryTaskSummary};
use super::{envelope, Celery};
use crate::keys::celery as k;
use crate::Result;

/// Celery's task states, in the order of the state zsets in `celery_record.lua`'s KEYS.
pub const STATES: [&str; 8] = [
    "PENDING", "RECEIVED", "STARTED", "SUCCESS", "FAILURE", "RETRY", "REVOKED", "REJECTED",
];
/// Tasks kept (oldest first-seen dropped past it).
pub const CAP: u64 = 100_000;
/// Seconds a task record lives after its last event.
pub const TTL: u64 = 7 * 86_400;
/// Longest text kept per field (tracebacks, reprs).
pub const MAX_FIELD: usize = 64 * 1024;
pub const MAX_PAGE: u64 = 500;
/// Entries examined when both filters are given (one walks the other).
pub const FILTER_BUDGET: u64 = 5000;

/// `task-received` → `RECEIVED` (`TASK_EVENT_TO_STATE`); `None` for events with no state.
pub fn state_of(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "task-sent" => "PENDING",
        "task-received" => "RECEIVED",
        "task-started" => "STARTED",
        "task-succeeded" => "SUCCESS",
        "task-failed" => "FAILURE",
        "task-retried" => "RETRY",
        "task-revoked" => "REVOKED",
        "task-rejected" => "REJECTED",
        _ => return None,
    })
}

fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(cut(s))
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_FIELD {
        let mut end = MAX_FIELD;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// Applies one `task-*` event; `Ok(false)` when it was a duplicate or not a task event.
pub async fn record(c: &Celery, ev: &Value) -> Result<bool> {
    let Some(typ) = ev.get("type").and_then(Value::as_str) else {
        return Ok(false);
    };
    let Some(id) = ev.get("uuid").and_then(Value::as_str) else {
        return Ok(false);
    };
    if !typ.starts_with("task-") || crate::limits::validate_job_id(id).is_err() {
        return Ok(false);
    }
    let ts = ev
        .get("timestamp")
        .cloned()
        .unwrap_or(Value::Null)
        .to_string();
    let state = state_of(typ).unwrap_or("");
    let idx = STATES.iter().position(|s| *s == state).map_or(1, |i| i + 1);
    let name = ev
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && n.len() <= 512)
        .unwrap_or("");
    let parent = ev
        .get("parent_id")
        .and_then(Value::as_str)
        .filter(|p| crate::limits::validate_job_id(p).is_ok());
    let phase = typ.trim_start_matches("task-");
    let mut fields: Vec<(String, String)> = vec![(format!("at:{phase}"), ts.clone())];
    for (from, to) in [
        ("name", "name"),
        ("args", "args"),
        ("kwargs", "kwargs"),
        ("retries", "retries"),
        ("eta", "eta"),
        ("expires", "expires"),
        ("root_id", "root_id"),
        ("parent_id", "parent_id"),
        ("queue", "queue"),
        ("routing_key", "routing_key"),
        ("result", "result"),
        ("runtime", "runtime"),
        ("exception", "exception"),
        ("traceback", "traceback"),
        ("terminated", "terminated"),
        ("signum", "signum"),
        ("expired", "expired"),
    ] {
        if let Some(v) = ev.get(from).and_then(text) {
            fields.push((to.to_string(), v));
        }
    }
    if typ != "task-sent" {
        if let Some(h) = ev.get("hostname").and_then(text) {
            fields.push(("worker".into(), h));
        }
    }
    let mut inv = crate::scripts::CELERY_RECORD.prepare_invoke();
    inv.key(k::task(id))
        .key(k::TASKS)
        .key(k::tasks_named(name))
        .key(k::NAMES)
        .key(k::children(parent.unwrap_or("")));
    for s in STATES {
        inv.key(k::tasks_in_state(s));
    }
    inv.arg(id)
        .arg(typ)
        .arg(state)
        .arg(&ts)
        .arg(CAP)
        .arg(TTL)
        .arg(name)
        .arg(if parent.is_some() { "1" } else { "0" })
        .arg(idx)
        .arg(crate::time::now());
    for (f, v) in &fields {
        inv.arg(f).arg(v);
    }
    let applied: i64 = inv.invoke_async(&mut c.broker.conn()).await?;
    Ok(applied == 1)
}

pub(super) const ROW_FIELDS: [&str; 8] = [
    "name", "state", "worker", "args", "kwargs", "runtime", "retries", "seen_at",
];

/// A task row from its record's [`ROW_FIELDS`] values (a record without a state is PENDING).
pub(super) fn summary(id: String, r: &[Option<String>]) -> CeleryTaskSummary {
    CeleryTaskSummary {
        id,
        name: r[0].clone(),
        state: r[1].clone().unwrap_or_else(|| "PENDING".into()),
        worker: r[2].clone(),
        args: r[3].clone(),
        kwargs: r[4].clone(),
        runtime_s: r[5].as_deref().and_then(|v| v.parse().ok()),
        retries: r[6].as_deref().and_then(|v| v.parse().ok()),
        seen_at: r[7].as_deref().and_then(|v| v.parse().ok()).unwrap_or(0.0),
    }
}

/// Members of the time-scored sorted set `key`, newest first: `limit` of them from `offset`.
pub(super) async fn newest_ids<C: redis::aio::ConnectionLike>(
    conn: &mut C,
    key: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<String>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    Ok(redis::cmd("ZREVRANGE")
        .arg(key)
        .arg(offset)
        .arg(offset + limit - 1)
        .query_async(conn)
        .await?)
}

/// One page of tasks, newest first, optionally filtered by state and / or name.
pub async fn list(
    c: &Celery,
    state: Option<&str>,
    name: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<CeleryTaskPage> {
    let limit = limit.min(MAX_PAGE);
    if let Some(s) = state {
        if !STATES.contains(&s) {
            return Err(crate::Error::Invalid(format!(
                "unknown state {s:?}: one of {}",
                STATES.join(", ")
            )));
        }
    }
    let index = match (state, name) {
        (Some(s), _) => k::tasks_in_state(s),
        (None, Some(n)) => k::tasks_named(n),
        (None, None) => k::TASKS.to_string(),
    };
    let mut conn = c.broker.conn();
    let total: u64 = redis::cmd("ZCARD")
        .arg(&index)
        .query_async(&mut conn)
        .await?;
    let (ids, examined, complete) = match (state, name) {
        (Some(_), Some(n)) => {
            // Walk the state index newest first, keeping those of that name (bounded).
            let ids: Vec<String> = redis::cmd("ZREVRANGE")
                .arg(&index)
                .arg(0)
                .arg(FILTER_BUDGET - 1)
                .query_async(&mut conn)
                .await?;
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("ZSCORE").arg(k::tasks_named(n)).arg(id);
            }
            let hits: Vec<Option<f64>> = if ids.is_empty() {
                Vec::new()
            } else {
                pipe.query_async(&mut conn).await?
            };
            let examined = ids.len() as u64;
            let matching: Vec<String> = ids
                .into_iter()
                .zip(hits)
                .filter_map(|(id, hit)| hit.map(|_| id))
                .collect();
            let page = matching
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            (page, examined, examined >= total)
        }
        _ => (newest_ids(&mut conn, &index, offset, limit).await?, 0, true),
    };
    let mut pipe = redis::pipe();
    for id in &ids {
        pipe.cmd("HMGET").arg(k::task(id)).arg(&ROW_FIELDS[..]);
    }
    let rows: Vec<Vec<Option<String>>> = if ids.is_empty() {
        Vec::new()
    } else {
        pipe.query_async(&mut conn).await?
    };
    let items = ids
        .into_iter()
        .zip(rows)
        .filter(|(_, r)| r.iter().any(Option::is_some))
        .map(|(id, r)| summary(id, &r))
        .collect();
    Ok(CeleryTaskPage {
        items,
        total,
        offset,
        limit,
        examined,
        complete,
    })
}

/// Task names seen, most frequent first (the filter's choices).
pub async fn names(c: &Celery, limit: u64) -> Result<Vec<String>> {
    Ok(redis::cmd("ZREVRANGE")
        .arg(k::NAMES)
        .arg(0)
        .arg(limit.max(1) - 1)
        .query_async(&mut c.broker.conn())
        .await?)
}

/// The record, one SSCAN page of its children, the captured message.
type Reads = (
    BTreeMap<String, String>,
    (u64, Vec<String>),
    Option<Vec<u8>>,
);

/// Everything known about `id`: Taskmill's record, the result backend's meta, the captured
/// message. `None` when none of them knows it.
pub async fn get(c: &Celery, id: &str) -> Result<Option<CeleryTask>> {
    crate::limits::validate_job_id(id)?;
    let (rec, children, msg): Reads = redis::pipe()
        .cmd("HGETALL")
        .arg(k::task(id))
        .cmd("SSCAN")
        .arg(k::children(id))
        .arg(0)
        .arg("COUNT")
        .arg(1000)
        .cmd("GET")
        .arg(k::message(id))
        .query_async(&mut c.broker.conn())
        .await?;
    let meta: Option<Vec<u8>> = redis::cmd("GET")
        .arg(k::task_meta("", id))
        .query_async(&mut c.backend.conn())
        .await?;
    if rec.is_empty() && meta.is_none() && msg.is_none() {
        return Ok(None);
    }
    let get = |f: &str| rec.get(f).cloned();
    let mut t = CeleryTask {
        id: id.to_string(),
        name: get("name"),
        state: get("state").unwrap_or_else(|| "PENDING".into()),
        args: get("args"),
        kwargs: get("kwargs"),
        result: get("result"),
        exception: get("exception"),
        traceback: get("traceback"),
        worker: get("worker"),
        retries: get("retries").and_then(|v| v.parse().ok()),
        runtime_s: get("runtime").and_then(|v| v.parse().ok()),
        parent_id: get("parent_id"),
        root_id: get("root_id"),
        eta: get("eta"),
        expires: get("expires"),
        queue: get("queue").or_else(|| get("routing_key")),
        children: children.1,
        message_known: msg.is_some(),
        ..Default::default()
    };
    for (f, v) in &rec {
        if let (Some(phase), Ok(at)) = (f.strip_prefix("at:"), v.parse::<f64>()) {
            t.timeline.insert(phase.to_string(), at);
        }
    }
    if let Some(raw) = &meta {
        t.in_backend = true;
        merge_meta(&mut t, raw, rec.is_empty());
    }
    if let Some(raw) = &msg {
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(raw) {
            let env = m.get("envelope").and_then(Value::as_str).unwrap_or("");
            let d = envelope::decode(env.as_bytes());
            t.name = t.name.or(d.task);
            t.args = t.args.or(d.args);
            t.kwargs = t.kwargs.or(d.kwargs);
            t.root_id = t.root_id.or(d.root_id);
            t.parent_id = t.parent_id.or(d.parent_id);
            t.group_id = t.group_id.or(d.group);
            t.eta = t.eta.or(d.eta);
            t.queue = t.queue.or(m.get("queue").and_then(text));
        }
    }
    t.children.sort();
    t.children.dedup();
    Ok(Some(t))
}

/// The result backend's view wins for state (unless PENDING-less) and fills what events lack.
fn merge_meta(t: &mut CeleryTask, raw: &[u8], no_events: bool) {
    let Ok(m) = serde_json::from_slice::<Value>(raw) else {
        t.result
            .get_or_insert_with(|| "undecodable result meta".into());
        return;
    };
    if let Some(s) = m.get("status").and_then(Value::as_str) {
        let ready = |s: &str| matches!(s, "SUCCESS" | "FAILURE" | "REVOKED");
        if no_events || ready(s) || !ready(&t.state) {
            t.state = s.to_string();
        }
    }
    let status = m.get("status").and_then(Value::as_str).unwrap_or("");
    match (status, m.get("result")) {
        ("FAILURE" | "RETRY" | "REVOKED", Some(r)) if r.is_object() => {
            let typ = r.get("exc_type").and_then(text).unwrap_or_default();
            let msg = r
                .get("exc_message")
                .map(|v| v.to_string())
                .unwrap_or_default();
            t.exception.get_or_insert(format!("{typ}({msg})"));
        }
        (_, Some(r)) if !r.is_null() => t.result = Some(cut(r.to_string())),
        _ => {}
    }
    if let Some(tb) = m.get("traceback").and_then(text) {
        t.traceback.get_or_insert(tb);
    }
    t.date_done = m.get("date_done").and_then(text);
    t.group_id = m.get("group_id").and_then(text);
    t.parent_id = t
        .parent_id
        .take()
        .or_else(|| m.get("parent_id").and_then(text));
    t.name = t.name.take().or_else(|| m.get("name").and_then(text));
    t.args = t.args.take().or_else(|| m.get("args").and_then(text));
    t.kwargs = t.kwargs.take().or_else(|| m.get("kwargs").and_then(text));
    t.worker = t.worker.take().or_else(|| m.get("worker").and_then(text));
    t.queue = t.queue.take().or_else(|| m.get("queue").and_then(text));
    t.retries = t
        .retries
        .or_else(|| m.get("retries").and_then(Value::as_i64));
    if let Some(children) = m.get("children").and_then(Value::as_array) {
        for c in children {
            child_ids(c, &mut t.children, 0);
        }
    }
}

/// Result tuples: `[[id, null], null]` for a task, `[[gid, null], [children...]]` for a group.
fn child_ids(v: &Value, out: &mut Vec<String>, depth: u8) {
    if depth > 8 || out.len() > 1000 {
        return;
    }
    let Some(pair) = v.as_array() else { return };
    if let Some(id) = pair.first().and_then(|h| h.get(0)).and_then(Value::as_str) {
        match pair.get(1).and_then(Value::as_array) {
            Some(members) => {
                for m in members {
                    child_ids(m, out, depth + 1);
                }
            }
            None => out.push(id.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn children_of_chains_and_groups() {
        let mut out = Vec::new();
        child_ids(&json!([["a", null], null]), &mut out, 0);
        child_ids(
            &json!([["g", null], [[["b", null], null], [["c", null], null]]]),
            &mut out,
            0,
        );
        assert_eq!(out, ["a", "b", "c"]);
    }

    #[test]
    fn meta_merge() {
        let mut t = CeleryTask {
            state: "STARTED".into(),
            ..Default::default()
        };
        merge_meta(
            &mut t,
            br#"{"status": "FAILURE", "result": {"exc_type": "ValueError",
            "exc_message": ["boom"]}, "traceback": "Traceback...", "children": []}"#,
            false,
        );
        assert_eq!(t.state, "FAILURE");
        assert_eq!(t.exception.as_deref(), Some(r#"ValueError(["boom"])"#));
        let mut t = CeleryTask::default();
        merge_meta(&mut t, b"\xff", true);
        assert_eq!(t.result.as_deref(), Some("undecodable result meta"));
    }
}
