//! RQ 2.12's cron keys, written the way `rq/cron.py` writes them so Python tools see Taskmill's
//! schedulers, and read (never pruned: reads do not mutate) for the console's Cron page.
//!
//! - `rq:cron_scheduler:<name>` hash: `hostname`, `pid`, `name`, `created_at`, `config_file`,
//!   `cron_jobs` (JSON list, `CronJob.to_dict()`), plus Taskmill's `version`; EXPIRE 120.
//! - `rq:cron_schedulers` zset name → heartbeat (ZADD NX at birth, ZREM at clean shutdown).
//! - `rq:cron_job:<name>:jobs` zset job id → enqueued_at (newest 1000, EXPIRE a year) and
//!   `rq:cron_jobs` zset name → last enqueue: written by `lua/cron_enqueue.lua` with the job.

use std::collections::BTreeMap;

use redis::Value;
use serde_json::{json, Map, Value as Json};

use super::types::{CronJobInfo, CronOverview, CronSchedulerInfo};
use super::{CronJobDef, HISTORY_LIMIT, HISTORY_TTL, SCHEDULER_TTL};
use crate::codec::json::dumps_python;
use crate::reply::{self, field};
use crate::scripts::CRON_ENQUEUE;
use crate::time::{format_rq, parse_rq};
use crate::{keys, Result, Store};

/// Schedulers one console read shows (newest heartbeat first).
pub const MAX_SCHEDULERS: usize = 200;

/// Who this scheduler is, as written into its hash.
#[derive(Clone, Debug)]
pub struct SchedulerRecord {
    /// `<hostname>:<pid>:<6 hex>`, RQ's default shape.
    pub name: String,
    pub hostname: String,
    pub pid: u32,
    pub created_at: f64,
    pub config_file: String,
}

impl SchedulerRecord {
    pub fn new(config_file: &str, now: f64) -> SchedulerRecord {
        let hostname = crate::worker::hostname();
        let pid = std::process::id();
        let name = format!("{hostname}:{pid}:{:06x}", rand::random::<u32>() & 0xff_ffff);
        SchedulerRecord {
            name,
            hostname,
            pid,
            created_at: now,
            config_file: config_file.to_string(),
        }
    }
}

/// One job's `CronJob.to_dict()`, plus `timezone`.
pub fn job_dict(def: &CronJobDef, latest: Option<f64>, next: Option<f64>) -> Json {
    let text = |v: Json| Json::String(dumps_python(&v));
    let mut o = Map::new();
    o.insert("func_name".into(), json!(def.func));
    o.insert("name".into(), json!(def.name));
    o.insert("queue_name".into(), json!(def.queue));
    let args = (!def.args.is_empty()).then(|| text(Json::Array(def.args.clone())));
    o.insert("args".into(), args.unwrap_or(Json::Null));
    let kwargs = (!def.kwargs.is_empty()).then(|| text(Json::Object(def.kwargs.clone())));
    o.insert("kwargs".into(), kwargs.unwrap_or(Json::Null));
    o.insert("interval".into(), json!(def.interval()));
    o.insert("cron".into(), json!(def.cron));
    o.insert("latest_enqueue_time".into(), json!(latest.map(format_rq)));
    o.insert("next_enqueue_time".into(), json!(next.map(format_rq)));
    let job = def.new_job();
    o.insert("result_ttl".into(), json!(job.result_ttl));
    for (k, v) in [
        ("job_timeout", def.timeout),
        ("ttl", def.ttl),
        ("failure_ttl", def.failure_ttl),
    ] {
        if let Some(v) = v {
            o.insert(k.into(), json!(v));
        }
    }
    if let Some(tz) = &def.timezone {
        o.insert("timezone".into(), json!(tz));
    }
    Json::Object(o)
}

/// Birth (`register_birth`): ZADD NX into the registry, the full hash, its TTL.
pub async fn register(store: &Store, rec: &SchedulerRecord, jobs: &[Json], now: f64) -> Result<()> {
    let mut p = redis::pipe();
    p.cmd("ZADD")
        .arg(keys::CRON_SCHEDULERS)
        .arg("NX")
        .arg(now)
        .arg(&rec.name)
        .ignore();
    save(&mut p, rec, jobs);
    p.query_async::<()>(&mut store.conn()).await?;
    Ok(())
}

/// Heartbeat: registry score, the hash again (it carries next / latest times), its TTL.
pub async fn heartbeat(
    store: &Store,
    rec: &SchedulerRecord,
    jobs: &[Json],
    now: f64,
) -> Result<()> {
    let mut p = redis::pipe();
    p.cmd("ZADD")
        .arg(keys::CRON_SCHEDULERS)
        .arg(now)
        .arg(&rec.name)
        .ignore();
    save(&mut p, rec, jobs);
    p.query_async::<()>(&mut store.conn()).await?;
    Ok(())
}

fn save(p: &mut redis::Pipeline, rec: &SchedulerRecord, jobs: &[Json]) {
    let key = keys::cron_scheduler(&rec.name);
    p.cmd("HSET")
        .arg(&key)
        .arg("hostname")
        .arg(&rec.hostname)
        .arg("pid")
        .arg(rec.pid.to_string())
        .arg("name")
        .arg(&rec.name)
        .arg("created_at")
        .arg(format_rq(rec.created_at))
        .arg("config_file")
        .arg(&rec.config_file)
        .arg("cron_jobs")
        .arg(dumps_python(&Json::Array(jobs.to_vec())))
        .arg("version")
        .arg(concat!("taskmill-", env!("CARGO_PKG_VERSION")))
        .ignore();
    p.cmd("EXPIRE").arg(&key).arg(SCHEDULER_TTL).ignore();
}

/// Clean shutdown (`register_death`): out of the registry, hash gone.
pub async fn unregister(store: &Store, name: &str) -> Result<()> {
    redis::pipe()
        .cmd("ZREM")
        .arg(keys::CRON_SCHEDULERS)
        .arg(name)
        .ignore()
        .cmd("DEL")
        .arg(keys::cron_scheduler(name))
        .ignore()
        .query_async::<()>(&mut store.conn())
        .await?;
    Ok(())
}

/// The last tick each job enqueued (any process), from the per-tick lock keys.
pub async fn last_ticks(store: &Store, names: &[&str]) -> Result<Vec<Option<i64>>> {
    let mut p = redis::pipe();
    for n in names {
        p.cmd("GET").arg(keys::cron_last(n));
    }
    let v: Vec<Option<String>> = p.query_async(&mut store.conn()).await?;
    Ok(v.into_iter()
        .map(|s| s.and_then(|s| s.parse().ok()))
        .collect())
}

/// What one tick did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TickOutcome {
    Enqueued(String),
    /// Another process already enqueued this tick (or a later one).
    Taken,
}

/// Enqueues `def`'s job for `tick` (unix seconds) if no process did yet, or now regardless of
/// ticks (`None`: run now), recording it in the job's history and `rq:cron_jobs`.
pub async fn enqueue(
    store: &Store,
    def: &CronJobDef,
    tick: Option<i64>,
    now: f64,
) -> Result<TickOutcome> {
    let extra = [
        keys::cron_last(&def.name),
        keys::cron_job_history(&def.name),
        keys::CRON_JOBS.to_string(),
    ];
    let lead = [
        tick.map(|t| t.to_string()).unwrap_or_default(),
        def.name.clone(),
        now.to_string(),
        HISTORY_LIMIT.to_string(),
        HISTORY_TTL.to_string(),
    ];
    let (id, status) =
        crate::enqueue::enqueue_via(store, def.new_job(), &CRON_ENQUEUE, &extra, &lead).await?;
    match status.as_str() {
        "taken" => Ok(TickOutcome::Taken),
        "duplicate" => Err(crate::Error::DuplicateJob(id)),
        _ => Ok(TickOutcome::Enqueued(id)),
    }
}

/// Every registered scheduler (at most [`MAX_SCHEDULERS`]) with its jobs and each job's last
/// run: four pipelined round trips, nothing written.
pub async fn overview(store: &Store, now: f64) -> Result<CronOverview> {
    let mut conn = store.conn();
    let (total, members): (u64, Value) = redis::pipe()
        .cmd("ZCARD")
        .arg(keys::CRON_SCHEDULERS)
        .cmd("ZRANGE")
        .arg(keys::CRON_SCHEDULERS)
        .arg(0)
        .arg(MAX_SCHEDULERS - 1)
        .arg("REV")
        .arg("WITHSCORES")
        .query_async(&mut conn)
        .await?;
    let members = reply::scored(&members);
    let mut schedulers = Vec::with_capacity(members.len());
    if !members.is_empty() {
        let mut p = redis::pipe();
        for (name, _) in &members {
            p.cmd("HGETALL").arg(keys::cron_scheduler(name));
        }
        let hashes: Vec<Value> = p.query_async(&mut conn).await?;
        for ((name, score), h) in members.iter().zip(&hashes) {
            schedulers.push(scheduler_from(name, *score, reply::hash(h), now));
        }
    }
    fill_last_runs(store, &mut schedulers).await?;
    Ok(CronOverview {
        truncated: total as usize > schedulers.len(),
        schedulers,
    })
}

fn scheduler_from(
    name: &str,
    score: Option<f64>,
    h: Option<reply::Hash>,
    now: f64,
) -> CronSchedulerInfo {
    let h = h.unwrap_or_default();
    let text = |f: &str| field(&h, f).map(|s| s.into_owned());
    let kind = match text("version") {
        Some(v) if v.starts_with("taskmill") => "taskmill",
        _ => "rq",
    };
    let (jobs, undecodable) = match h.get("cron_jobs") {
        None => (Vec::new(), None),
        Some(raw) => match serde_json::from_slice::<Vec<Json>>(raw) {
            Ok(list) => (list.iter().map(job_from).collect(), None),
            Err(e) => (
                Vec::new(),
                Some(format!("cron_jobs is not a JSON list: {e}")),
            ),
        },
    };
    CronSchedulerInfo {
        name: name.to_string(),
        kind: kind.into(),
        hostname: text("hostname"),
        pid: text("pid").and_then(|p| p.trim().parse().ok()),
        created_at: text("created_at").and_then(|t| parse_rq(t.trim())),
        config_file: text("config_file"),
        last_heartbeat: score,
        stale: h.is_empty() || score.is_none_or(|s| now - s > SCHEDULER_TTL as f64),
        jobs,
        undecodable,
    }
}

fn job_from(j: &Json) -> CronJobInfo {
    let s = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_string);
    let t = |k: &str| j.get(k).and_then(Json::as_str).and_then(parse_rq);
    let func_name = s("func_name").unwrap_or_else(|| "?".into());
    CronJobInfo {
        name: s("name")
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| func_name.clone()),
        func_name,
        queue_name: s("queue_name").unwrap_or_else(|| "?".into()),
        cron: s("cron"),
        interval: j.get("interval").and_then(Json::as_u64),
        timezone: s("timezone"),
        args: s("args"),
        kwargs: s("kwargs"),
        next_enqueue_time: t("next_enqueue_time"),
        latest_enqueue_time: t("latest_enqueue_time"),
        last_job_id: None,
        last_job_status: None,
    }
}

/// A job's newest history entry: job id and enqueue time.
type LastRun = (String, Option<f64>);

/// The newest entry of each job's history and that job's status.
async fn fill_last_runs(store: &Store, schedulers: &mut [CronSchedulerInfo]) -> Result<()> {
    let names: BTreeMap<String, Option<LastRun>> = schedulers
        .iter()
        .flat_map(|s| s.jobs.iter().map(|j| (j.name.clone(), None)))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let mut conn = store.conn();
    let mut p = redis::pipe();
    for n in names.keys() {
        p.cmd("ZRANGE")
            .arg(keys::cron_job_history(n))
            .arg(0)
            .arg(0)
            .arg("REV")
            .arg("WITHSCORES");
    }
    let v: Vec<Value> = p.query_async(&mut conn).await?;
    let last: Vec<(String, Option<LastRun>)> = names
        .into_keys()
        .zip(v.iter())
        .map(|(n, v)| (n, reply::scored(v).into_iter().next()))
        .collect();
    let ids: Vec<&String> = last
        .iter()
        .filter_map(|(_, l)| l.as_ref().map(|(id, _)| id))
        .collect();
    let mut status = BTreeMap::new();
    if !ids.is_empty() {
        let mut p = redis::pipe();
        for id in &ids {
            p.cmd("HGET").arg(keys::job(id)).arg("status");
        }
        let v: Vec<Option<String>> = p.query_async(&mut conn).await?;
        status = ids.into_iter().cloned().zip(v).collect();
    }
    let last: BTreeMap<String, LastRun> = last
        .into_iter()
        .filter_map(|(n, l)| Some((n, l?)))
        .collect();
    for j in schedulers.iter_mut().flat_map(|s| s.jobs.iter_mut()) {
        if let Some((id, at)) = last.get(&j.name) {
            j.last_job_status = status.get(id).cloned().flatten();
            j.last_job_id = Some(id.clone());
            j.latest_enqueue_time = at.or(j.latest_enqueue_time);
        }
    }
    Ok(())
}

/// A job for "run now": the first live scheduler's definition of `name` (stale ones last).
pub async fn find_job(store: &Store, name: &str, now: f64) -> Result<Option<CronJobDef>> {
    let mut o = overview(store, now).await?;
    o.schedulers.sort_by_key(|s| s.stale);
    let Some(j) = o
        .schedulers
        .iter()
        .flat_map(|s| s.jobs.iter())
        .find(|j| j.name == name)
    else {
        return Ok(None);
    };
    let parse = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| serde_json::from_str::<Json>(t).ok())
    };
    Ok(Some(CronJobDef {
        name: j.name.clone(),
        func: j.func_name.clone(),
        queue: j.queue_name.clone(),
        schedule: super::schedule::Schedule::Interval {
            secs: j.interval.unwrap_or(60).max(1),
        },
        cron: j.cron.clone(),
        timezone: j.timezone.clone(),
        args: match parse(&j.args) {
            Some(Json::Array(a)) => a,
            _ => Vec::new(),
        },
        kwargs: match parse(&j.kwargs) {
            Some(Json::Object(m)) => m,
            _ => Map::new(),
        },
        timeout: None,
        result_ttl: None,
        failure_ttl: None,
        ttl: None,
    }))
}
