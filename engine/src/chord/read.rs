//! Reading chords for the console and the API. Reads only: a page never completes or fires a
//! chord (the ticks do); members are bounded by `MAX_GROUP_MEMBERS`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::limits::validate_group_name;
use crate::{keys, Result, Store};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChordMember {
    pub id: String,
    /// The job's status now; `gone` when its hash no longer exists.
    pub status: String,
    /// Counted as ended by the chord.
    pub ended: bool,
}

/// One chord with its progress (`GET /api/v1/groups/{name}`, `/groups/{name}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChordView {
    pub name: String,
    /// `waiting`, `ready` (callback due), `done` (callback enqueued) or `failed` (policy
    /// `fail` and a member failed: no callback).
    pub status: String,
    pub policy: String,
    pub total: u64,
    pub ended: u64,
    pub failed: u64,
    pub callback_id: String,
    pub callback_func: String,
    pub callback_queue: String,
    pub created_at: Option<String>,
    pub ended_at: Option<String>,
    pub fired_at: Option<String>,
    /// Member count per current status.
    pub by_status: BTreeMap<String, u64>,
    pub members: Vec<ChordMember>,
}

/// One line of the chord list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChordSummary {
    pub name: String,
    pub status: String,
    pub total: u64,
    pub ended: u64,
}

/// The chord `name`, or `None`. A plain RQ group (no chord record) is shown too, with status
/// `group` and no callback, so Python-made groups have a page as well.
pub async fn get(store: &Store, name: &str) -> Result<Option<ChordView>> {
    validate_group_name(name)?;
    let mut conn = store.conn();
    let (hash, mut ids, ended_ids, group_ids): (
        BTreeMap<String, String>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
    ) = redis::pipe()
        .hgetall(keys::chord(name))
        .cmd("SRANDMEMBER")
        .arg(keys::chord_members(name))
        .arg(crate::limits::MAX_GROUP_MEMBERS)
        .cmd("SRANDMEMBER")
        .arg(keys::chord_ended(name))
        .arg(crate::limits::MAX_GROUP_MEMBERS)
        .cmd("SRANDMEMBER")
        .arg(keys::group(name))
        .arg(crate::limits::MAX_GROUP_MEMBERS)
        .query_async(&mut conn)
        .await?;
    if hash.is_empty() && group_ids.is_empty() {
        return Ok(None);
    }
    if hash.is_empty() {
        ids = group_ids;
    }
    ids.sort();
    let mut p = redis::pipe();
    for id in &ids {
        p.hget(keys::job(id), "status");
    }
    let statuses: Vec<Option<String>> = if ids.is_empty() {
        Vec::new()
    } else {
        p.query_async(&mut conn).await?
    };
    let ended: std::collections::HashSet<&String> = ended_ids.iter().collect();
    let mut by_status = BTreeMap::new();
    let members: Vec<ChordMember> = ids
        .iter()
        .zip(statuses)
        .map(|(id, st)| {
            let status = st.unwrap_or_else(|| "gone".into());
            *by_status.entry(status.clone()).or_insert(0) += 1;
            ChordMember {
                id: id.clone(),
                status,
                ended: ended.contains(id),
            }
        })
        .collect();
    let num = |k: &str| hash.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
    let callback: Option<serde_json::Value> = hash
        .get("callback")
        .and_then(|c| serde_json::from_str(c).ok());
    let cb = |k: &str| {
        callback
            .as_ref()
            .and_then(|c| c.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    Ok(Some(ChordView {
        name: name.to_string(),
        status: hash
            .get("status")
            .cloned()
            .unwrap_or_else(|| "group".into()),
        policy: hash.get("policy").cloned().unwrap_or_default(),
        total: if hash.is_empty() {
            members.len() as u64
        } else {
            num("total")
        },
        ended: ended_ids.len() as u64,
        failed: num("failed"),
        callback_id: hash.get("callback_id").cloned().unwrap_or_default(),
        callback_func: cb("func"),
        callback_queue: cb("queue"),
        created_at: hash.get("created_at").cloned(),
        ended_at: hash.get("ended_at").cloned(),
        fired_at: hash.get("fired_at").cloned(),
        by_status,
        members,
    }))
}

/// Chords, newest first: `limit` from `offset` (bounded by the caller), and the total count.
pub async fn list(store: &Store, offset: usize, limit: usize) -> Result<(Vec<ChordSummary>, u64)> {
    let mut conn = store.conn();
    let limit = limit.clamp(1, 200);
    let (names, total): (Vec<String>, u64) = redis::pipe()
        .zrevrange(keys::CHORDS, offset as isize, (offset + limit - 1) as isize)
        .zcard(keys::CHORDS)
        .query_async(&mut conn)
        .await?;
    let mut p = redis::pipe();
    for n in &names {
        p.cmd("HMGET")
            .arg(keys::chord(n))
            .arg("status")
            .arg("total");
        p.scard(keys::chord_ended(n));
    }
    let rows: Vec<redis::Value> = if names.is_empty() {
        Vec::new()
    } else {
        p.query_async(&mut conn).await?
    };
    let out = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let (status, total) = match rows.get(2 * i) {
                Some(redis::Value::Array(v)) => (
                    v.first().and_then(crate::reply::text).unwrap_or_default(),
                    v.get(1)
                        .and_then(crate::reply::text)
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0),
                ),
                _ => (String::new(), 0),
            };
            let ended = rows.get(2 * i + 1).and_then(crate::reply::int).unwrap_or(0) as u64;
            ChordSummary {
                name,
                status,
                total,
                ended,
            }
        })
        .collect();
    Ok((out, total))
}
