//! Celery's failure groups: the index `history` keeps as failures are recorded, read by the same
//! code as RQ's (`crate::groups::read` over [`INDEX`]), a group's tasks as task rows, and the
//! group's live members (still FAILURE) for "retry all".

use super::tasks::{summary, ROW_FIELDS};
use super::types::{CeleryTaskPage, CeleryTaskSummary};
use super::Celery;
use crate::groups::read::{self, IndexKeys};
use crate::keys::celery as k;
use crate::model::{FailureGroup, FailureGroups};
use crate::Result;

/// Celery's failure-group index keys.
pub const INDEX: IndexKeys = IndexKeys {
    backend: "celery",
    groups: k::FG_GROUPS,
    state: k::FG_STATE,
    group: k::fg_group,
    meta: k::fg_meta,
};

/// Most tasks one "retry all" re-publishes (a bigger group is refused: retry a narrower set).
pub const MAX_RETRY_GROUP: usize = 10_000;

/// The groups, largest first. Always current: the index is fed as events arrive, so `as_of`
/// is now.
pub async fn groups(c: &Celery) -> Result<FailureGroups> {
    let mut g = read::groups_in(&c.broker, &INDEX).await?;
    g.as_of = Some(crate::time::now());
    Ok(g)
}

pub async fn group_info(c: &Celery, fingerprint: &str) -> Result<Option<FailureGroup>> {
    read::group_info_in(&c.broker, &INDEX, fingerprint).await
}

/// One page of a group's tasks, newest failure first (rows of the tasks list).
pub async fn group_page(
    c: &Celery,
    fingerprint: &str,
    offset: u64,
    limit: u64,
) -> Result<CeleryTaskPage> {
    let limit = limit.min(super::tasks::MAX_PAGE);
    let key = k::fg_group(fingerprint);
    let mut conn = c.broker.conn();
    let total: u64 = redis::cmd("ZCARD").arg(&key).query_async(&mut conn).await?;
    let ids = super::tasks::newest_ids(&mut conn, &key, offset, limit).await?;
    Ok(CeleryTaskPage {
        items: rows(c, &ids).await?,
        total,
        offset,
        limit,
        examined: 0,
        complete: true,
    })
}

/// Task rows of `ids` (one pipeline); an id whose record expired is shown by id alone.
pub async fn rows(c: &Celery, ids: &[String]) -> Result<Vec<CeleryTaskSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for id in ids {
        pipe.cmd("HMGET").arg(k::task(id)).arg(&ROW_FIELDS[..]);
    }
    let rows: Vec<Vec<Option<String>>> = pipe.query_async(&mut c.broker.conn()).await?;
    Ok(ids
        .iter()
        .zip(rows)
        .map(|(id, r)| summary(id.clone(), &r))
        .collect())
}

/// The group's tasks that are still FAILURE (the set "retry all" acts on; its count is the one
/// an operator confirms). Bounded by [`MAX_RETRY_GROUP`].
pub async fn live_members(c: &Celery, fingerprint: &str) -> Result<Vec<String>> {
    let ids: Vec<String> = redis::cmd("ZREVRANGE")
        .arg(k::fg_group(fingerprint))
        .arg(0)
        .arg(MAX_RETRY_GROUP as i64)
        .query_async(&mut c.broker.conn())
        .await?;
    if ids.len() > MAX_RETRY_GROUP {
        return Err(crate::Error::Invalid(format!(
            "this group has more than {MAX_RETRY_GROUP} failed tasks; retry them from a search \
             or a narrower set"
        )));
    }
    let mut pipe = redis::pipe();
    for id in &ids {
        pipe.cmd("HGET").arg(k::task(id)).arg("state");
    }
    let states: Vec<Option<String>> = if ids.is_empty() {
        Vec::new()
    } else {
        pipe.query_async(&mut c.broker.conn()).await?
    };
    Ok(ids
        .into_iter()
        .zip(states)
        .filter(|(_, s)| s.as_deref() == Some("FAILURE"))
        .map(|(id, _)| id)
        .collect())
}
