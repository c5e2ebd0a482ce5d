//! Reads of the failure-group index: the groups (largest first), one group's failures as a
//! job page, and a group's *live* members for the group actions. O(groups shown) and O(page):
//! the index is read, never rebuilt, here.

use redis::Value;

use crate::keys;
use crate::model::{FailureGroup, FailureGroups, JobSummary, Page};
use crate::reply;
use crate::scripts::GROUPS_PRUNE;
use crate::{Result, Store};

/// Most groups listed (the long tail of one-off errors stays out of the page).
pub const MAX_GROUPS: usize = 200;
/// Most queues / functions named per group.
const MAX_NAMES: usize = 10;

/// Where an index lives: RQ's (`taskmill:fg:*`, kept by `index`) or Celery's
/// (`taskmill:celery:fg:*`, kept by `crate::celery::groups` as task events arrive). The reads
/// are the same code over either.
#[derive(Clone, Copy, Debug)]
pub struct IndexKeys {
    pub backend: &'static str,
    pub groups: &'static str,
    pub state: &'static str,
    pub group: fn(&str) -> String,
    pub meta: fn(&str) -> String,
}

/// RQ's failure-group index.
pub const RQ: IndexKeys = IndexKeys {
    backend: "rq",
    groups: keys::FG_GROUPS,
    state: keys::FG_STATE,
    group: keys::fg_group,
    meta: keys::fg_meta,
};

/// The groups, largest first (then by fingerprint).
pub async fn groups(store: &Store) -> Result<FailureGroups> {
    groups_in(store, &RQ).await
}

/// The groups of the index `ix`, largest first (then by fingerprint).
pub async fn groups_in(store: &Store, ix: &IndexKeys) -> Result<FailureGroups> {
    let mut conn = store.conn();
    let top: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
        .arg(ix.groups)
        .arg(0)
        .arg(MAX_GROUPS as i64 - 1)
        .arg("WITHSCORES")
        .query_async(&mut conn)
        .await?;
    let mut p = redis::pipe();
    p.ignore_errors();
    p.cmd("HGET").arg(ix.state).arg("as_of");
    let now = crate::time::now();
    for (fp, _) in &top {
        describe(&mut p, ix, fp, now);
    }
    let replies: Vec<Value> = p.query_async(&mut conn).await?;
    let as_of = replies
        .first()
        .and_then(reply::string)
        .and_then(|s| s.parse().ok());
    let mut items: Vec<FailureGroup> = top
        .iter()
        .zip(replies[1..].chunks(PER_GROUP))
        .map(|((fp, count), r)| group(ix, fp, *count as u64, r))
        .collect();
    items.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    Ok(FailureGroups { as_of, items })
}

/// One group, or `None` if no failure has that fingerprint.
pub async fn group_info(store: &Store, fingerprint: &str) -> Result<Option<FailureGroup>> {
    group_info_in(store, &RQ, fingerprint).await
}

/// One group of the index `ix`, or `None` if no failure has that fingerprint.
pub async fn group_info_in(
    store: &Store,
    ix: &IndexKeys,
    fingerprint: &str,
) -> Result<Option<FailureGroup>> {
    let mut p = redis::pipe();
    p.ignore_errors();
    p.cmd("ZSCORE").arg(ix.groups).arg(fingerprint);
    describe(&mut p, ix, fingerprint, crate::time::now());
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let Some(count) = replies.first().and_then(reply::float) else {
        return Ok(None);
    };
    Ok(Some(group(ix, fingerprint, count as u64, &replies[1..])))
}

/// Replies per group that `describe` queues and `group` reads.
const PER_GROUP: usize = 5;

/// Meta hash, oldest and newest failure, and the counts of the last hour and day (ZCOUNT on
/// failure time: O(log n)).
fn describe(p: &mut redis::Pipeline, ix: &IndexKeys, fp: &str, now: f64) {
    let g = (ix.group)(fp);
    p.cmd("HGETALL").arg((ix.meta)(fp));
    p.cmd("ZRANGE").arg(&g).arg(0).arg(0).arg("WITHSCORES");
    p.cmd("ZREVRANGE").arg(&g).arg(0).arg(0).arg("WITHSCORES");
    p.cmd("ZCOUNT").arg(&g).arg(now - 3600.0).arg("+inf");
    p.cmd("ZCOUNT").arg(&g).arg(now - 86_400.0).arg("+inf");
}

fn group(ix: &IndexKeys, fp: &str, count: u64, r: &[Value]) -> FailureGroup {
    let meta = r.first().and_then(reply::hash).unwrap_or_default();
    let names = |prefix: &str| {
        let mut v: Vec<(i64, String)> = meta
            .iter()
            .filter_map(|(k, n)| {
                let name = k.strip_prefix(prefix)?;
                let n = String::from_utf8_lossy(n).parse::<i64>().ok()?;
                Some((n, name.to_string()))
            })
            .filter(|(n, _)| *n > 0)
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        v.into_iter()
            .take(MAX_NAMES)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
    };
    let seen = |v: Option<&Value>| v.and_then(|v| reply::scored(v).first().and_then(|s| s.1));
    FailureGroup {
        fingerprint: fp.to_string(),
        exc_type: reply::field(&meta, "exc_type")
            .map(|s| s.into_owned())
            .unwrap_or_default(),
        example: reply::field(&meta, "example")
            .map(|s| s.into_owned())
            .unwrap_or_default(),
        count,
        queues: names("q\n"),
        functions: names("f\n").into_iter().filter(|f| !f.is_empty()).collect(),
        first_seen: seen(r.get(1)),
        last_seen: seen(r.get(2)),
        last_hour: r.get(3).map_or(0, reply::count),
        last_day: r.get(4).map_or(0, reply::count),
        backend: ix.backend.to_string(),
    }
}

/// One page of a group's failures, newest first, as job rows (the failed list's columns).
pub async fn group_page(
    store: &Store,
    fingerprint: &str,
    offset: u64,
    limit: u64,
) -> Result<Page<JobSummary>> {
    let limit = limit.min(crate::registry::MAX_PAGE);
    let key = keys::fg_group(fingerprint);
    let mut p = redis::pipe();
    p.cmd("ZCARD").arg(&key);
    if limit > 0 {
        p.cmd("ZREVRANGE")
            .arg(&key)
            .arg(offset)
            .arg(offset + limit - 1)
            .arg("WITHSCORES");
    }
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let total = replies.first().map_or(0, reply::count);
    let window = replies.get(1).map(reply::scored).unwrap_or_default();
    let ids: Vec<String> = window
        .iter()
        .map(|(m, _)| member_id(m).to_string())
        .collect();
    let mut items = crate::job::summaries(store, &ids, true).await?;
    for (s, (_, at)) in items.iter_mut().zip(window) {
        s.score = at;
    }
    Ok(Page {
        items,
        total,
        offset,
        limit,
    })
}

/// A group's members (`<queue>\n<id>`) that are still failed with their indexed score, after
/// dropping the ones that are not: the exact set a group action acts on, and its count the
/// one an operator confirms.
pub async fn live_members(store: &Store, fingerprint: &str) -> Result<Vec<String>> {
    let members = all_members(store, fingerprint).await?;
    prune_members(store, &members).await?;
    all_members(store, fingerprint).await
}

async fn all_members(store: &Store, fingerprint: &str) -> Result<Vec<String>> {
    Ok(redis::cmd("ZREVRANGE")
        .arg(keys::fg_group(fingerprint))
        .arg(0)
        .arg(-1)
        .query_async(&mut store.conn())
        .await?)
}

/// Drops the index entries of `members` whose failure is gone (one prune call per
/// [`super::index::SLICE`]); after a group action, so its page shows the result at once.
pub async fn prune_members(store: &Store, members: &[String]) -> Result<u64> {
    let mut conn = store.conn();
    let mut dropped = 0;
    for chunk in members.chunks(super::index::SLICE) {
        let (_, n, _): (String, u64, u64) = GROUPS_PRUNE
            .arg("members")
            .arg(chunk)
            .invoke_async(&mut conn)
            .await?;
        dropped += n;
    }
    Ok(dropped)
}

/// The job id of an index member.
pub fn member_id(member: &str) -> &str {
    member.rsplit_once('\n').map_or(member, |(_, id)| id)
}
