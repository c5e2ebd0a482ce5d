//! The job hash `rq:job:<id>`: tolerant parsing into `JobSummary` / `JobDetail`.
//!
//! Real hashes are messy (RQ 1.16 vs 2.x fields, `""` for unset, stale fields HSET never
//! removed, hand-written or corrupt data), so every field is optional and a problem is reported
//! as text next to whatever could be read — a read never fails because of one bad job.

use std::collections::HashMap;

use redis::Value;

use crate::codec;
use crate::keys;
use crate::model::{Decoded, Execution, JobDetail, JobStatus, JobSummary};
use crate::reply::{self, field, Hash};
use crate::result;
use crate::scripts::DATA_HEADS;
use crate::time::parse_rq;
use crate::{Result, Store};

/// Fields a list page needs (read with HMGET; `data` only as a short prefix, see `summaries`).
pub const SUMMARY_FIELDS: &[&str] = &[
    "status",
    "origin",
    "description",
    "created_at",
    "enqueued_at",
    "started_at",
    "ended_at",
    "worker_name",
    "exc_info",
];
/// Bytes of `data` read per list row: enough for the zlib'd head holding func_name.
pub const DATA_PREFIX: usize = 512;
/// Most execution records read per job (RQ keeps at most a handful).
pub const MAX_EXECUTIONS: usize = 10;
/// Most dependents / dependencies listed on the detail page.
pub const MAX_DEPS: usize = 1000;

/// A list-page row from whatever hash fields are present.
pub fn summary_from_hash(id: &str, h: &HashMap<String, Vec<u8>>) -> JobSummary {
    summary_parts(id, h, true).0
}

/// `summary_from_hash`, plus the inflated legacy `exc_info` text so the detail page need not
/// inflate it again. `list_row: true` (list pages) peeks at the head of `data` for func_name
/// and decodes through the memos without keeping the text; `false` (the detail page, which
/// decodes `data` whole anyway) skips the peek and returns the text.
fn summary_parts(
    id: &str,
    h: &HashMap<String, Vec<u8>>,
    list_row: bool,
) -> (JobSummary, Option<String>) {
    let mut problems = Vec::new();
    let mut ts = |name: &str| {
        let s = field(h, name)?;
        let t = parse_rq(s.trim());
        if t.is_none() {
            problems.push(format!(
                "bad {name} {:?}",
                crate::value::truncate_chars(&s, 60)
            ));
        }
        t
    };
    let (created_at, enqueued_at, started_at, ended_at) = (
        ts("created_at"),
        ts("enqueued_at"),
        ts("started_at"),
        ts("ended_at"),
    );
    let text = |name: &str| field(h, name).map(|s| s.into_owned());
    let description = text("description");
    let func_name = h
        .get("data")
        .filter(|_| list_row)
        .and_then(|d| codec::memo::FUNC_NAME.get_or(d, codec::func_name_hint))
        .or_else(|| description.as_deref().and_then(func_from_description));
    if !h.is_empty() && !h.contains_key("data") {
        // Workers fail such a job ("Unexpected job format"); say so on the list too.
        problems.push("no data field".into());
    }
    let exc_info = h.get("exc_info").filter(|b| !b.is_empty());
    let exc_text = |b: &[u8]| {
        codec::zlib::inflate_or_raw(b, result::MAX_EXC_BYTES)
            .ok()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
    };
    let (exc_text, exc_summary) = match exc_info {
        None => (None, None),
        Some(b) if list_row => (
            None,
            codec::memo::EXC_INFO_SUMMARY
                .get_or(b, |b| exc_text(b).as_deref().and_then(result::exc_summary)),
        ),
        Some(b) => {
            let text = exc_text(b);
            let summary = text.as_deref().and_then(result::exc_summary);
            (text, summary)
        }
    };
    let summary = JobSummary {
        id: id.to_string(),
        exists: !h.is_empty(),
        status: field(h, "status").map(|s| JobStatus::parse(s.trim())),
        origin: text("origin"),
        func_name,
        description,
        created_at,
        enqueued_at,
        started_at,
        ended_at,
        worker_name: text("worker_name"),
        score: None,
        exc_summary,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    };
    (summary, exc_text)
}

/// `mod.func(1, 'x')` → `mod.func` (RQ's default description is the call string).
fn func_from_description(d: &str) -> Option<String> {
    let (head, _) = d.split_once('(')?;
    let ok = !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    ok.then(|| head.to_string())
}

/// Summaries for a page of ids in one round trip: one pipeline with an HMGET of
/// `SUMMARY_FIELDS` per row and one read-only script returning a `DATA_PREFIX`-byte head of
/// each `data` and, with `with_results`, each row's latest `exc_string` (for `exc_summary`).
/// Missing hashes give `exists: false`; wrong types a problem.
pub async fn summaries(
    store: &Store,
    ids: &[String],
    with_results: bool,
) -> Result<Vec<JobSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys: Vec<String> = ids.iter().map(|id| keys::job(id)).collect();
    let mut p = redis::pipe();
    p.ignore_errors();
    for k in &keys {
        p.cmd("HMGET").arg(k).arg(SUMMARY_FIELDS);
    }
    if with_results {
        keys.extend(ids.iter().map(|id| keys::results(id)));
    }
    p.cmd("EVAL")
        .arg(DATA_HEADS)
        .arg(keys.len())
        .arg(&keys)
        .arg(DATA_PREFIX)
        .arg(if with_results { "1" } else { "0" });
    let mut replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let extras = replies.pop().map(reply::into_items).unwrap_or_default();
    let mut extras = extras.into_iter();
    Ok(ids
        .iter()
        .zip(replies)
        .map(|(id, fields)| {
            let head = extras.next();
            let exc = if with_results { extras.next() } else { None };
            row_summary(id, fields, head, exc)
        })
        .collect())
}

fn missing(id: &str) -> JobSummary {
    summary_from_hash(id, &HashMap::new())
}

/// One row from its HMGET reply, its data head and (failed lists) its latest `exc_string`.
fn row_summary(id: &str, fields: Value, head: Option<Value>, exc: Option<Value>) -> JobSummary {
    if reply::is_error(&fields) || matches!(head, Some(Value::Int(-1))) {
        let mut s = missing(id);
        s.exists = true;
        s.problem = Some(format!("{} is not a hash", keys::job(id)));
        return s;
    }
    let mut h = Hash::with_capacity(SUMMARY_FIELDS.len() + 1);
    for (name, v) in SUMMARY_FIELDS.iter().zip(reply::into_items(fields)) {
        if let Some(b) = reply::into_bytes(v) {
            h.insert(name.to_string(), b);
        }
    }
    match head {
        Some(Value::Int(0)) | None if h.is_empty() => return missing(id),
        Some(Value::Int(_)) | None => {}
        Some(v) => {
            if let Some(b) = reply::into_bytes(v) {
                h.insert("data".into(), b);
            }
        }
    }
    // The latest result's traceback wins over the legacy `exc_info` field, so that one is only
    // inflated when there is no such result.
    let latest_exc = match exc {
        Some(Value::BulkString(b)) if !b.is_empty() => codec::memo::EXC_STRING_SUMMARY
            .get_or(&b, |b| result::exc_summary(&result::decode_exc_string(b))),
        _ => None,
    };
    if latest_exc.is_some() {
        h.remove("exc_info");
    }
    let mut s = summary_from_hash(id, &h);
    s.exists = true;
    if latest_exc.is_some() {
        s.exc_summary = latest_exc;
    }
    s
}

/// Full detail of one job, or `None` if `rq:job:<id>` does not exist. A corrupt hash still
/// returns `Some` with `Undecodable` markers.
pub async fn fetch(store: &Store, id: &str) -> Result<Option<JobDetail>> {
    crate::limits::validate_job_id(id)?;
    let mut conn = store.conn();
    let replies: Vec<Value> = redis::pipe()
        .ignore_errors()
        .cmd("HGETALL")
        .arg(keys::job(id))
        .cmd("XREVRANGE")
        .arg(keys::results(id))
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(result::MAX_ENTRIES)
        .cmd("SMEMBERS")
        .arg(keys::dependents(id))
        .cmd("SMEMBERS")
        .arg(keys::dependencies(id))
        .cmd("ZRANGE")
        .arg(keys::executions(id))
        .arg(0)
        .arg(MAX_EXECUTIONS - 1)
        .cmd("TTL")
        .arg(keys::job(id))
        .cmd("TYPE")
        .arg(keys::job(id))
        .query_async(&mut conn)
        .await?;
    let get = |i: usize| replies.get(i).cloned().unwrap_or(Value::Nil);
    let key_type = reply::string(&get(6)).unwrap_or_default();
    let hash = reply::hash(&get(0));
    if key_type == "none" {
        return Ok(None);
    }
    let execution_ids = reply::strings(&get(4));
    let mut executions = Vec::new();
    if !execution_ids.is_empty() {
        let mut p = redis::pipe();
        p.ignore_errors();
        for x in &execution_ids {
            p.cmd("HGETALL").arg(keys::execution(id, x));
        }
        let hs: Vec<Value> = p.query_async(&mut conn).await?;
        for (x, v) in execution_ids.iter().zip(hs.iter()) {
            let h = reply::hash(v).unwrap_or_default();
            let f = |n: &str| field(&h, n).and_then(|s| reply::parse_float(&s));
            executions.push(Execution {
                id: x.clone(),
                worker_name: field(&h, "worker_name").map(|s| s.into_owned()),
                created_at: f("created_at"),
                last_heartbeat: f("last_heartbeat"),
            });
        }
    }
    let mut detail = detail_from_hash(id, hash.as_ref(), &key_type);
    detail.results = result::parse_reply(&get(1));
    detail.dependents = capped_sorted(reply::strings(&get(2)));
    let mut deps = capped_sorted(reply::strings(&get(3)));
    for d in std::mem::take(&mut detail.dependency_ids) {
        if !deps.contains(&d) {
            deps.push(d);
        }
    }
    detail.dependency_ids = deps;
    detail.executions = executions;
    detail.key_ttl = reply::int(&get(5)).unwrap_or(-1);
    // The latest failure's traceback wins over the legacy `exc_info` field.
    if let Some(latest) = detail.results.first() {
        if let Some(s) = latest.exc_string.as_deref().and_then(result::exc_summary) {
            detail.summary.exc_summary = Some(s);
        }
    }
    detail.timeline = crate::timeline::build(&detail);
    Ok(Some(detail))
}

fn capped_sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.truncate(MAX_DEPS);
    v
}

/// Everything the hash itself says (streams, sets and executions are filled in by `fetch`).
/// `hash` is `None` when the key exists with another type.
pub fn detail_from_hash(id: &str, hash: Option<&Hash>, key_type: &str) -> JobDetail {
    let empty = Hash::new();
    let h = hash.unwrap_or(&empty);
    // `data` is decoded whole below, so the summary skips its head-only func_name peek.
    let (mut summary, legacy_exc_info) = summary_parts(id, h, false);
    let mut problems: Vec<String> = summary.problem.take().into_iter().collect();
    if hash.is_none() {
        summary.exists = true;
        problems.push(format!("{} is a {key_type}, not a hash", keys::job(id)));
    }
    let call = match h.get("data") {
        Some(d) if !d.is_empty() => codec::decode_data(d),
        _ => Err(Decoded::Undecodable {
            reason: "no data field".into(),
            raw: String::new(),
            len: 0,
        }),
    };
    match &call {
        Ok(c) => summary.func_name = Some(c.func_name.clone()),
        // A payload too big or too odd to decode whole may still name its function up front.
        Err(_) => {
            if let Some(f) = h.get("data").and_then(|d| codec::func_name_hint(d)) {
                summary.func_name = Some(f);
            }
        }
    }
    let int = |name: &str| {
        let s = field(h, name)?;
        s.trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64))
    };
    let flag =
        |name: &str| field(h, name).is_some_and(|s| matches!(s.trim(), "1" | "True" | "true"));
    let json_list = |name: &str| -> Option<Vec<serde_json::Value>> {
        serde_json::from_slice::<Vec<serde_json::Value>>(h.get(name)?).ok()
    };
    let retry_intervals = json_list("retry_intervals")
        .map(|v| {
            v.iter()
                .filter_map(|x| x.as_f64().map(|f| f as i64))
                .collect()
        })
        .unwrap_or_default();
    let mut dependency_ids: Vec<String> = json_list("dependency_ids")
        .map(|v| {
            v.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(d) = field(h, "dependency_id") {
        if !dependency_ids.iter().any(|x| *x == d) {
            dependency_ids.push(d.into_owned());
        }
    }
    let legacy_exc_info = legacy_exc_info.filter(|t| !t.is_empty());
    let last_heartbeat = field(h, "last_heartbeat").and_then(|s| {
        let t = parse_rq(s.trim());
        if t.is_none() {
            problems.push(format!(
                "bad last_heartbeat {:?}",
                crate::value::truncate_chars(&s, 60)
            ));
        }
        t
    });
    let mut raw_fields: Vec<(String, String)> = h
        .iter()
        .map(|(k, v)| (k.clone(), codec::preview(v, 256)))
        .collect();
    raw_fields.sort();
    summary.problem = (!problems.is_empty()).then(|| problems.join("; "));
    JobDetail {
        summary,
        call,
        meta: h
            .get("meta")
            .filter(|b| !b.is_empty())
            .map(|b| codec::decode_value(b)),
        timeout: int("timeout"),
        result_ttl: int("result_ttl"),
        failure_ttl: int("failure_ttl"),
        ttl: int("ttl"),
        last_heartbeat,
        retries_left: int("retries_left"),
        retry_intervals,
        number_of_retries: int("number_of_retries"),
        repeats_left: int("repeats_left"),
        group_id: field(h, "group_id").map(|s| s.into_owned()),
        at_front: flag("enqueue_at_front"),
        dependency_ids,
        dependents: Vec::new(),
        allow_dependency_failures: flag("allow_dependency_failures"),
        results: Vec::new(),
        executions: Vec::new(),
        legacy_result: h
            .get("result")
            .filter(|b| !b.is_empty())
            .map(|b| codec::decode_value(b)),
        legacy_exc_info,
        key_ttl: -1,
        raw_fields,
        timeline: Vec::new(),
    }
}
