//! Chords: an RQ 2.x group (`rq:group:<name>`, members' `group_id`, `rq:groups`) plus a callback
//! job enqueued exactly once when every member has ended (finished, failed for good, stopped,
//! canceled, or gone), with the members' ids, statuses and — for JSON-serializer members —
//! results. Named `chord` so it does not clash with `crate::groups` (failure groups).
//!
//! # Exactly once
//! - A member ending in a Taskmill worker is recorded inside `finish.lua` (`chord_lib.lua`), so
//!   "was that the last one?" is decided in the same atomic step as the member's end.
//! - Members run by Python `rq worker`, canceled or deleted are found by the chord tick
//!   (`chord_tick.lua`, every Taskmill worker once a second, and the console's tick).
//! - Either path only moves the chord to `ready` (or `failed` under policy `fail`); the callback
//!   is then written by `chord_fire.lua`, which checks `ready` and sets `done` in the same step.
//!   A process dying between the two leaves `ready`, which the next tick fires.
//!
//! # Layout
//! - `mod`  — types and [`create`].
//! - `fire` — [`tick`] and [`fire`]: build the callback (results read in Rust) and enqueue it.
//! - `read` — [`get`] and [`list`] for the console and the API.

mod fire;
mod read;

use redis::Value;
use serde::{Deserialize, Serialize};

use crate::enqueue::{self, NewJob};
use crate::limits::{validate_group_name, validate_job_id, MAX_GROUP_MEMBERS};
use crate::reply::text;
use crate::scripts::CHORD_CREATE;
use crate::{keys, time, Error, Result, Store};

pub use fire::{fire, tick};
pub use read::{get, list, ChordMember, ChordSummary, ChordView};

/// What happens to the callback when a member fails for good.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// The callback is not run; the chord is marked `failed`.
    #[default]
    Fail,
    /// The callback runs once every member has ended, whatever the outcome.
    Always,
}

impl Policy {
    pub fn as_str(&self) -> &'static str {
        match self {
            Policy::Fail => "fail",
            Policy::Always => "always",
        }
    }

    pub fn parse(s: &str) -> Result<Policy> {
        match s {
            "fail" => Ok(Policy::Fail),
            "always" => Ok(Policy::Always),
            _ => Err(Error::Invalid(format!(
                "on_failure must be \"fail\" or \"always\", got {s:?}"
            ))),
        }
    }
}

/// A chord to create. Also the body of `POST /api/v1/groups`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewChord {
    /// The RQ group name; a uuid4 hex (like RQ) if absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Existing jobs to make members (each must exist and be in no other group).
    #[serde(default)]
    pub jobs: Vec<String>,
    /// New jobs, enqueued as members (queued right away, JSON serializer).
    #[serde(default)]
    pub enqueue: Vec<NewJob>,
    /// The callback. It is called with one extra first argument, the chord summary:
    /// `{"group", "ids", "statuses": {id: status}, "results": {id: value}}`.
    pub callback: NewJob,
    #[serde(default)]
    pub on_failure: Policy,
}

/// What [`create`] made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    pub name: String,
    /// Member ids, existing ones first, then the enqueued ones in order.
    pub members: Vec<String>,
    pub callback_id: String,
    /// `waiting`, or already `ready` / `failed` if every member had ended.
    pub status: String,
}

/// Creates the group and its chord in one script; enqueues `enqueue` members first. Unknown
/// ids, a taken name, or a member of another group are refused before anything is written
/// (except members already enqueued when the script refuses: they run as plain jobs).
pub async fn create(store: &Store, chord: NewChord) -> Result<Created> {
    let name = match &chord.name {
        Some(n) => n.clone(),
        None => enqueue::uuid4().replace('-', ""),
    };
    validate_group_name(&name)?;
    let n = chord.jobs.len() + chord.enqueue.len();
    if n == 0 {
        return Err(Error::Invalid("a chord needs at least one member".into()));
    }
    if n > MAX_GROUP_MEMBERS {
        return Err(Error::Invalid(format!(
            "a chord has at most {MAX_GROUP_MEMBERS} members, got {n}"
        )));
    }
    for id in &chord.jobs {
        validate_job_id(id)?;
    }
    let mut callback = chord.callback.clone();
    let callback_id = callback.id.get_or_insert_with(enqueue::uuid4).clone();
    // Validate the callback now: a bad one would only show when the chord completes.
    enqueue::plain_fields(callback.clone())?;
    let callback_json = serde_json::to_string(&callback)?;
    let mut conn = store.conn();
    let (k, ek) = (keys::chord(&name), keys::group(&name));
    let (a, b): (bool, bool) = redis::pipe()
        .exists(&k)
        .exists(&ek)
        .query_async(&mut conn)
        .await?;
    if a || b {
        return Err(Error::Conflict(format!("group {name:?} already exists")));
    }
    let mut members = chord.jobs.clone();
    if !chord.enqueue.is_empty() && !chord.jobs.is_empty() {
        // Refuse unknown existing ids before enqueueing anything.
        let mut p = redis::pipe();
        for id in &chord.jobs {
            p.exists(keys::job(id));
        }
        let found: Vec<bool> = p.query_async(&mut conn).await?;
        let unknown: Vec<&String> = chord
            .jobs
            .iter()
            .zip(found)
            .filter(|(_, f)| !f)
            .map(|(id, _)| id)
            .collect();
        if !unknown.is_empty() {
            return Err(unknown_ids(unknown.into_iter().cloned().collect()));
        }
    }
    if !chord.enqueue.is_empty() {
        members.extend(enqueue::enqueue_many(store, chord.enqueue.clone()).await?);
    }
    let now = time::now();
    let mut inv = CHORD_CREATE.prepare_invoke();
    inv.arg(&name)
        .arg(chord.on_failure.as_str())
        .arg(&callback_json)
        .arg(&callback_id)
        .arg(now.to_string())
        .arg(time::format_rq(now))
        .arg(if chord.enqueue.is_empty() { "0" } else { "1" });
    for id in &members {
        inv.arg(id);
    }
    let reply: Value = inv.invoke_async(&mut conn).await?;
    let items: Vec<String> = match reply {
        Value::Array(v) => v.iter().filter_map(text).collect(),
        _ => Vec::new(),
    };
    match items.first().map(String::as_str) {
        Some("ok") => {}
        Some("exists") => return Err(Error::Conflict(format!("group {name:?} already exists"))),
        Some("unknown") => return Err(unknown_ids(items[1..].to_vec())),
        Some("taken") => {
            return Err(Error::Invalid(format!(
                "job {} is already in group {:?}",
                items.get(1).map(String::as_str).unwrap_or_default(),
                items.get(2).map(String::as_str).unwrap_or_default()
            )))
        }
        _ => return Err(Error::Invalid("unexpected chord_create reply".into())),
    }
    let status = items.get(1).cloned().unwrap_or_default();
    // Already complete (every member had ended): fire now rather than at the next tick.
    if status == "ready" {
        fire(store, &name).await?;
    }
    Ok(Created {
        name,
        members,
        callback_id,
        status,
    })
}

fn unknown_ids(ids: Vec<String>) -> Error {
    let shown: Vec<&str> = ids.iter().take(10).map(String::as_str).collect();
    Error::Invalid(format!(
        "unknown job ids ({}): {}",
        ids.len(),
        shown.join(", ")
    ))
}
