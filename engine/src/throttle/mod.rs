//! Concurrency and rate limits, global across every Taskmill worker on one Redis.
//!
//! # Design
//! A limit (`fn:<function>` or `q:<queue>`, from `--limits FILE.toml`, see [`config`]) is three
//! Taskmill keys: *holders* (a zset of `<job>:<execution>` scored by lease expiry), *starts* (a
//! zset of start times inside the rate window) and *waiting* (a list of parked job ids).
//! - **Admission after claim.** A slot claims as usual (queue order, batching and the finish
//!   script are untouched); only a job whose function or queue has a limit makes one more call,
//!   `throttle_acquire.lua`, before it runs. It takes every applicable permit at once, or undoes
//!   the claim and *parks* the job (status back to `queued`, id appended to the full limit's
//!   waiting list) and frees the slot. Jobs without limits pay nothing, and a pool without
//!   `--limits` runs no limit code at all.
//! - **No spinning.** A parked job is in no queue, so no worker sees it until a permit frees:
//!   the release after its holder finishes (`throttle_tick.lua` with releases) or the periodic
//!   tick (expired leases of dead workers, a rate window reopening) moves as many waiting ids
//!   back to the *head* of their queue as there are free permits. Each is then claimed next.
//! - **Leases.** A permit's score is `now + lease`; heartbeats push it forward for running jobs.
//!   A SIGKILLed worker's permits expire within the lease and the next tick hands them on.
//! - **Atomic.** Acquire checks and takes in one script, so no race can exceed a limit.
//! - **Python workers** sharing a queue do not run these scripts: they run limited functions
//!   unthrottled. Put limited functions on queues only Taskmill workers serve (docs/contracts.md).

pub mod config;

use std::collections::HashMap;

use redis::Value;
use serde::{Deserialize, Serialize};

use crate::reply::{int, text};
use crate::scripts::THROTTLE_TICK;
use crate::{keys, time, Result, Store};

pub use config::{parse, parse_rate, ConfigError};

/// What a limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Function,
    Queue,
}

/// `count` starts per `per_secs` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rate {
    pub count: u64,
    pub per_secs: u64,
}

impl Rate {
    pub fn text(&self) -> String {
        let unit = match self.per_secs {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        format!("{}/{unit}", self.count)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Limit {
    pub scope: Scope,
    pub name: String,
    pub concurrency: Option<u32>,
    pub rate: Option<Rate>,
}

impl Limit {
    /// `fn:<function>` or `q:<queue>`: the part of its keys that names it.
    pub fn id(&self) -> String {
        match self.scope {
            Scope::Function => format!("fn:{}", self.name),
            Scope::Queue => format!("q:{}", self.name),
        }
    }

    /// The 4 script arguments of a limit: id, concurrency, rate count, window seconds.
    pub(crate) fn args(&self) -> [String; 4] {
        [
            self.id(),
            self.concurrency.unwrap_or(0).to_string(),
            self.rate.map(|r| r.count).unwrap_or(0).to_string(),
            self.rate.map(|r| r.per_secs).unwrap_or(1).to_string(),
        ]
    }
}

/// A parsed limits file, indexed by function and queue.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    all: Vec<Limit>,
    by_function: HashMap<String, usize>,
    by_queue: HashMap<String, usize>,
}

impl Limits {
    pub fn new(all: Vec<Limit>) -> Limits {
        let mut l = Limits {
            all,
            ..Limits::default()
        };
        for (i, x) in l.all.iter().enumerate() {
            match x.scope {
                Scope::Function => l.by_function.insert(x.name.clone(), i),
                Scope::Queue => l.by_queue.insert(x.name.clone(), i),
            };
        }
        l
    }

    pub fn all(&self) -> &[Limit] {
        &self.all
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    pub fn has_queue(&self, queue: &str) -> bool {
        self.by_queue.contains_key(queue)
    }

    pub fn has_functions(&self) -> bool {
        !self.by_function.is_empty()
    }

    /// Indexes of the limits a job of `func` on `queue` is under (function first).
    pub fn for_job(&self, func: &str, queue: &str) -> Vec<usize> {
        self.by_function
            .get(func)
            .into_iter()
            .chain(self.by_queue.get(queue))
            .copied()
            .collect()
    }

    /// Releases the holder members given as (limit index, `<job>:<execution>`) and wakes parked
    /// jobs for the freed permits; with no releases, the periodic tick over every limit.
    /// Returns the jobs moved back to their queues and the next time a full rate window
    /// reopens while jobs wait for it.
    pub async fn tick(
        &self,
        conn: &mut impl redis::aio::ConnectionLike,
        releases: &[(usize, String)],
    ) -> Result<(u64, Option<f64>)> {
        let mut inv = THROTTLE_TICK.prepare_invoke();
        inv.arg(time::now().to_string()).arg(self.all.len());
        for l in &self.all {
            for a in l.args() {
                inv.arg(a);
            }
        }
        for (i, member) in releases {
            inv.arg(i + 1).arg(member);
        }
        let reply: Value = inv.invoke_async(conn).await?;
        let Value::Array(items) = reply else {
            return Ok((0, None));
        };
        let moved = items.first().and_then(int).unwrap_or(0).max(0) as u64;
        let reopen = items
            .get(1)
            .and_then(text)
            .and_then(|t| t.parse::<f64>().ok());
        Ok((moved, reopen))
    }

    /// Records these limits in `taskmill:limits` for the console (id → JSON).
    pub async fn publish(&self, conn: &mut impl redis::aio::ConnectionLike) -> Result<()> {
        if self.all.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("HSET");
        cmd.arg(keys::LIMITS);
        for l in &self.all {
            cmd.arg(l.id())
                .arg(serde_json::to_string(l).unwrap_or_default());
        }
        cmd.query_async::<()>(conn).await?;
        Ok(())
    }
}

/// One limit as the console shows it: its config and current use. Read-only (counts by score,
/// so expired holders and starts outside the window are not counted, nor removed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitUse {
    pub id: String,
    pub limit: Limit,
    /// Permits held now (unexpired leases).
    pub running: u64,
    /// Starts inside the current rate window.
    pub started_in_window: u64,
    /// Jobs parked, waiting for a permit.
    pub waiting: u64,
}

/// Most limits listed (the registry is written from config files, so it is small; bounded anyway).
pub const MAX_LISTED: usize = 500;

/// Every published limit with its current use (`GET /api/v1/limits`, the console's page).
pub async fn list(store: &Store) -> Result<Vec<LimitUse>> {
    let mut conn = store.conn();
    // Written from config files by workers: small. Bounded anyway by MAX_LISTED below.
    let raw: std::collections::BTreeMap<String, String> = redis::cmd("HGETALL")
        .arg(keys::LIMITS)
        .query_async(&mut conn)
        .await?;
    let mut limits: Vec<(String, Limit)> = raw
        .into_iter()
        .filter_map(|(id, json)| Some((id, serde_json::from_str::<Limit>(&json).ok()?)))
        .take(MAX_LISTED)
        .collect();
    limits.sort_by(|a, b| a.0.cmp(&b.0));
    let now = time::now();
    let mut p = redis::pipe();
    for (id, l) in &limits {
        p.zcount(keys::limit_holders(id), format!("({now}"), "+inf");
        let win = l.rate.map(|r| r.per_secs).unwrap_or(1) as f64;
        p.zcount(keys::limit_starts(id), format!("({}", now - win), "+inf");
        p.llen(keys::limit_waiting(id));
    }
    let counts: Vec<u64> = if limits.is_empty() {
        Vec::new()
    } else {
        p.query_async(&mut conn).await?
    };
    Ok(limits
        .into_iter()
        .enumerate()
        .map(|(i, (id, limit))| LimitUse {
            id,
            limit,
            running: counts.get(3 * i).copied().unwrap_or(0),
            started_in_window: counts.get(3 * i + 1).copied().unwrap_or(0),
            waiting: counts.get(3 * i + 2).copied().unwrap_or(0),
        })
        .collect())
}
