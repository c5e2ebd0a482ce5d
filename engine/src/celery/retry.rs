//! Retrying a failed Celery task: re-publish its original message — the envelope captured from
//! its queue (`taskmill:celery:msg:<id>`, the producer's bytes unchanged), or, with
//! `result_extended`, one rebuilt from the name, args, kwargs and queue in its result meta —
//! onto the list of its queue and priority (LPUSH, as kombu publishes). The task keeps its id,
//! so its result and history carry on; Taskmill's record goes back to PENDING in the same MULTI.
//! Without either source the answer says why (nothing is guessed).

use base64::Engine as _;
use serde_json::{json, Value};

use super::{tasks, Celery};
use crate::keys::celery as k;
use crate::{Error, Result};

/// States a retry is offered for.
pub const RETRYABLE: [&str; 3] = ["FAILURE", "REVOKED", "REJECTED"];

pub async fn retry(c: &Celery, id: &str) -> Result<String> {
    let task = tasks::get(c, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no Celery task {id} was ever seen")))?;
    if !RETRYABLE.contains(&task.state.as_str()) {
        return Err(Error::Conflict(format!(
            "task {id} is {}: only failed, revoked or rejected tasks are retried",
            task.state
        )));
    }
    let (queue, envelope) = match original(c, id).await? {
        Some(found) => found,
        None => rebuilt(c, id).await?.ok_or_else(|| {
            Error::Conflict(format!(
                "the original message of task {id} is not known: Taskmill keeps a copy only \
                 of messages it saw waiting in a queue, and the result backend has no \
                 name/args (enable result_extended to retry any failed task)"
            ))
        })?,
    };
    let priority = serde_json::from_str::<Value>(&envelope)
        .ok()
        .and_then(|e| e.pointer("/properties/priority").and_then(Value::as_i64))
        .unwrap_or(0);
    let step = c.transport.step_of(priority);
    let list = k::queue_list(c.prefix(), &queue, &c.transport.sep, step);
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("LPUSH")
        .arg(&list)
        .arg(&envelope)
        .ignore();
    for s in tasks::STATES {
        pipe.cmd("ZREM").arg(k::tasks_in_state(s)).arg(id).ignore();
    }
    pipe.cmd("HDEL")
        .arg(k::task(id))
        .arg(&["state", "state_idx", "state_ts"][..])
        .ignore();
    let () = pipe.query_async(&mut c.broker.conn()).await?;
    // Back to PENDING in the record (and its state index).
    let ev = json!({"type": "task-sent", "uuid": id, "timestamp": crate::time::now(),
                    "queue": queue});
    tasks::record(c, &ev).await?;
    // No longer failed: out of its failure group.
    super::history::sync_group(c, id, None).await?;
    Ok(id.to_string())
}

/// The captured envelope and its queue.
async fn original(c: &Celery, id: &str) -> Result<Option<(String, String)>> {
    let raw: Option<String> = redis::cmd("GET")
        .arg(k::message(id))
        .query_async(&mut c.broker.conn())
        .await?;
    let Some(v) = raw.and_then(|r| serde_json::from_str::<Value>(&r).ok()) else {
        return Ok(None);
    };
    let queue = v.get("queue").and_then(Value::as_str);
    let env = v.get("envelope").and_then(Value::as_str);
    Ok(match (queue, env) {
        (Some(q), Some(e)) if crate::limits::validate_queue_name(q).is_ok() => {
            Some((q.to_string(), e.to_string()))
        }
        _ => None,
    })
}

/// A protocol-2 message from a `result_extended` meta (name, args, kwargs, queue).
async fn rebuilt(c: &Celery, id: &str) -> Result<Option<(String, String)>> {
    let raw: Option<Vec<u8>> = redis::cmd("GET")
        .arg(k::task_meta("", id))
        .query_async(&mut c.backend.conn())
        .await?;
    let Some(meta) = raw.and_then(|r| serde_json::from_slice::<Value>(&r).ok()) else {
        return Ok(None);
    };
    let (Some(name), Some(args), Some(kwargs)) = (
        meta.get("name").and_then(Value::as_str),
        meta.get("args").filter(|a| a.is_array()),
        meta.get("kwargs").filter(|k| k.is_object()),
    ) else {
        return Ok(None);
    };
    let queue = meta
        .get("queue")
        .and_then(Value::as_str)
        .filter(|q| crate::limits::validate_queue_name(q).is_ok())
        .unwrap_or("celery");
    Ok(Some((
        queue.to_string(),
        build(id, name, args, kwargs, queue, &meta),
    )))
}

/// The envelope Celery's `apply_async` would publish for these values (protocol 2, JSON).
pub fn build(
    id: &str,
    name: &str,
    args: &Value,
    kwargs: &Value,
    queue: &str,
    meta: &Value,
) -> String {
    let body =
        json!([args, kwargs, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]);
    let parent = meta.get("parent_id").cloned().unwrap_or(Value::Null);
    json!({
        "body": base64::engine::general_purpose::STANDARD.encode(body.to_string()),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py", "task": name, "id": id, "shadow": null, "eta": null, "expires": null,
            "group": meta.get("group_id").cloned().unwrap_or(Value::Null), "group_index": null,
            "retries": 0, "timelimit": [null, null], "root_id": id, "parent_id": parent,
            "argsrepr": crate::value::PyValue::from_json(args).repr_limited(1024),
            "kwargsrepr": crate::value::PyValue::from_json(kwargs).repr_limited(1024),
            "origin": "taskmill", "ignore_result": false, "replaced_task_nesting": 0,
            "stamped_headers": null, "stamps": {}
        },
        "properties": {
            "correlation_id": id, "reply_to": "", "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0, "body_encoding": "base64", "delivery_tag": crate::enqueue::uuid4()
        }
    })
    .to_string()
}
