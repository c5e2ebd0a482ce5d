//! Search over Celery's task records with RQ's query language and bounds (`crate::search`):
//! `name:`, `state:`, `worker:`, `exc:` (and `func:` as a synonym of `name:`), plus terms and
//! "phrases" matched case-insensitively in the name, args, kwargs, result, exception and
//! traceback. It walks the records newest first (the state's index with `state:`) in windows of
//! [`limits::SEARCH_STEP`] ids, one pipelined HMGET per window, within the same per-page budget
//! of tasks and time as RQ's search, and continues from an opaque cursor.

use std::time::Instant;

use super::types::{CelerySearchPage, CeleryTaskSummary};
use super::Celery;
use crate::keys::celery as k;
use crate::search::cursor::Cursor;
use crate::search::query::{self, Query};
use crate::{limits, Error, Result};

/// The cursor's segment name for Celery's walk (never an RQ segment's).
const SEGMENT: &str = "(celery)";
/// Hash fields read per task, in `matches`' order.
const FIELDS: [&str; 11] = [
    "name",
    "state",
    "worker",
    "args",
    "kwargs",
    "result",
    "exception",
    "traceback",
    "runtime",
    "retries",
    "seen_at",
];

/// One page of Celery tasks matching `text`, continuing from `cursor` (a previous page's).
/// Empty when the query excludes Celery (`backend:rq`, `queue:`, `status:`).
pub async fn search(
    c: &Celery,
    text: &str,
    cursor: Option<&str>,
    limit: u64,
) -> Result<CelerySearchPage> {
    let limit = limits::validate_search_limit(limit)? as usize;
    let q = query::parse(text)?;
    if !q.searches_celery() {
        return Ok(CelerySearchPage::default());
    }
    let mut conn = c.broker.conn();
    let mut at = match cursor.filter(|s| !s.is_empty()) {
        Some(s) => {
            let cur = Cursor::decode(s, text)?;
            if cur.queue != SEGMENT {
                return Err(Error::Invalid(
                    "invalid search cursor: this cursor continues RQ's search, not Celery's".into(),
                ));
            }
            cur
        }
        None => {
            if let Some(id) = q.lone_id().filter(|id| limits::validate_job_id(id).is_ok()) {
                let n: u64 = redis::cmd("EXISTS")
                    .arg(k::task(id))
                    .query_async(&mut conn)
                    .await?;
                if n == 1 {
                    let items = super::groups::rows(c, &[id.to_string()]).await?;
                    return Ok(CelerySearchPage {
                        items,
                        cursor: None,
                        scanned: 1,
                        exact: Some(id.to_string()),
                    });
                }
            }
            let mut cur = Cursor::default();
            cur.queue = SEGMENT.into();
            cur
        }
    };
    let index = match &q.state {
        Some(s) => k::tasks_in_state(s),
        None => k::TASKS.to_string(),
    };
    let started = Instant::now();
    let budget = crate::search::PAGE_BUDGET;
    let mut examined = 0u64;
    let mut items = Vec::new();
    let mut done = false;
    while items.len() < limit && examined < budget.jobs && started.elapsed() < budget.time {
        let step = limits::SEARCH_STEP;
        let ids: Vec<String> = redis::cmd("ZREVRANGE")
            .arg(&index)
            .arg(at.pos)
            .arg(at.pos + step - 1)
            .query_async(&mut conn)
            .await?;
        if ids.is_empty() {
            done = true;
            break;
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.cmd("HMGET").arg(k::task(id)).arg(&FIELDS[..]);
        }
        let rows: Vec<Vec<Option<String>>> = pipe.query_async(&mut conn).await?;
        let window = ids.len() as u64;
        for (id, r) in ids.into_iter().zip(rows) {
            at.pos += 1;
            examined += 1;
            if matches(&q, &r) {
                items.push(summary(id, &r));
                if items.len() >= limit {
                    break;
                }
            }
        }
        if window < step && items.len() < limit {
            done = true;
            break;
        }
    }
    at.scanned += examined;
    Ok(CelerySearchPage {
        items,
        cursor: (!done).then(|| at.encode(text)),
        scanned: at.scanned,
        exact: None,
    })
}

fn summary(id: String, r: &[Option<String>]) -> CeleryTaskSummary {
    CeleryTaskSummary {
        id,
        name: r[0].clone(),
        state: r[1].clone().unwrap_or_else(|| "PENDING".into()),
        worker: r[2].clone(),
        args: r[3].clone(),
        kwargs: r[4].clone(),
        runtime_s: r[8].as_deref().and_then(|v| v.parse().ok()),
        retries: r[9].as_deref().and_then(|v| v.parse().ok()),
        seen_at: r[10].as_deref().and_then(|v| v.parse().ok()).unwrap_or(0.0),
    }
}

/// Whether the record `r` (values in [`FIELDS`] order) matches `q`. Case-insensitive substring
/// tests over bounded text (each field is capped when recorded).
pub fn matches(q: &Query, r: &[Option<String>]) -> bool {
    if r.iter().all(Option::is_none) {
        return false;
    }
    let get = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
    let has = |hay: &str, needle: &str| hay.to_lowercase().contains(needle);
    if let Some(want) = q.name.as_deref().or(q.func.as_deref()) {
        if !has(&get(0), want) {
            return false;
        }
    }
    if q.state.as_ref().is_some_and(|s| *s != get(1)) {
        return false;
    }
    if q.worker.as_ref().is_some_and(|w| !has(&get(2), w)) {
        return false;
    }
    if let Some(want) = &q.exc {
        if !has(&format!("{}\n{}", get(6), get(7)), want) {
            return false;
        }
    }
    if q.terms.is_empty() {
        return true;
    }
    let hay = (0..8)
        .filter(|i| *i != 1)
        .map(get)
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    q.terms.iter().all(|t| hay.contains(t.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, state: &str, kwargs: &str, tb: &str) -> Vec<Option<String>> {
        let mut r = vec![None; FIELDS.len()];
        r[0] = Some(name.into());
        r[1] = Some(state.into());
        r[2] = Some("celery@w1".into());
        r[4] = Some(kwargs.into());
        r[7] = Some(tb.into());
        r
    }

    #[test]
    fn matching() {
        let r = rec(
            "tasks.pay",
            "FAILURE",
            "{'order': 'ORD-77'}",
            "Traceback...\nValueError: no",
        );
        let m = |text: &str| matches(&query::parse(text).unwrap(), &r);
        assert!(m("ord-77"));
        assert!(m("\"'order': 'ORD-77'\""));
        assert!(m("name:pay state:failure worker:w1 exc:valueerror"));
        assert!(m("func:tasks.pay"));
        assert!(!m("state:success"));
        assert!(!m("exc:keyerror"));
        assert!(!m("ord-78"));
        assert!(!m("failure"), "the state is a filter, not text");
        let empty: Vec<Option<String>> = std::iter::repeat_n(None, FIELDS.len()).collect();
        assert!(!matches(&query::parse("x").unwrap(), &empty));
    }
}
