//! Producing jobs in RQ 2.12's exact layout with the JSON serializer: enqueue, enqueue_many (one
//! round trip), enqueue_at / enqueue_in (scheduled registry), dependencies (deferred registry),
//! and `Retry(max, intervals)`.
//!
//! Every job is written by one Lua script (`lua/enqueue.lua`, `lua/enqueue_many.lua`) so the
//! hash, the registry entry and the queue push appear together. Unlike RQ's plain `enqueue`, an
//! existing job hash is never overwritten: a custom id that is taken is `Error::DuplicateJob`
//! (RQ would merge the new fields into the old hash).

mod layout;
mod pyfmt;
mod zfixed;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::scripts::{ENQUEUE, ENQUEUE_MANY};
use crate::{keys, time, Error, Result, Store};

pub use pyfmt::{call_string, repr};

use layout::{prepare, Prepared};

/// RQ's `Queue.DEFAULT_TIMEOUT`.
pub const DEFAULT_TIMEOUT: i64 = 180;
/// Jobs per `enqueue_many.lua` call: large enough to amortise the round trip, small enough that
/// one call never blocks Redis for long.
pub const BATCH: usize = 1000;
/// Longest accepted function path.
pub(crate) const MAX_FUNC_LEN: usize = 1000;

/// RQ's `Retry(max, interval)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retry {
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub max: u32,
    #[serde(default)]
    pub intervals: Vec<u64>,
}

/// A job to create. Also the body of `POST /api/v1/queues/{name}/enqueue` (minus `queue`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewJob {
    #[serde(default)]
    pub queue: String,
    /// Dotted function path, e.g. `taskmill.echo` or `tasks.add`.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub func: String,
    #[serde(default)]
    pub args: Vec<Value>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub kwargs: Map<String, Value>,
    /// Custom id (`[A-Za-z0-9_-]+`); a uuid4 otherwise.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,128}$"))]
    pub id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Seconds; `-1` = none; RQ's default is 180.
    #[serde(default)]
    pub timeout: Option<i64>,
    #[serde(default)]
    pub result_ttl: Option<i64>,
    #[serde(default)]
    pub failure_ttl: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub ttl: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub meta: Option<Map<String, Value>>,
    #[serde(default)]
    pub at_front: bool,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub allow_dependency_failures: bool,
    #[serde(default)]
    pub retry: Option<Retry>,
    /// Unix seconds: schedule instead of queueing now (enqueue_at / enqueue_in).
    #[serde(default)]
    pub schedule_at: Option<f64>,
}

impl NewJob {
    pub fn new(queue: impl Into<String>, func: impl Into<String>) -> NewJob {
        NewJob {
            queue: queue.into(),
            func: func.into(),
            args: Vec::new(),
            kwargs: Map::new(),
            id: None,
            description: None,
            timeout: None,
            result_ttl: None,
            failure_ttl: None,
            ttl: None,
            meta: None,
            at_front: false,
            depends_on: Vec::new(),
            allow_dependency_failures: false,
            retry: None,
            schedule_at: None,
        }
    }
    pub fn args(mut self, args: Vec<Value>) -> NewJob {
        self.args = args;
        self
    }
    pub fn kwargs(mut self, kwargs: Map<String, Value>) -> NewJob {
        self.kwargs = kwargs;
        self
    }
    pub fn id(mut self, id: impl Into<String>) -> NewJob {
        self.id = Some(id.into());
        self
    }
    pub fn depends_on(mut self, ids: Vec<String>) -> NewJob {
        self.depends_on = ids;
        self
    }
}

/// Creates one job; returns its id. Deferred if a dependency is unfinished, scheduled if
/// `schedule_at` is set, queued otherwise.
pub async fn enqueue(store: &Store, job: NewJob) -> Result<String> {
    let (id, status) = enqueue_via(store, job, &ENQUEUE, &[], &[]).await?;
    if status == "duplicate" {
        return Err(Error::DuplicateJob(id));
    }
    Ok(id)
}

/// Runs enqueue.lua's body through `script`, which may first check or write more: its own keys
/// follow enqueue.lua's (after the parents'), its own arguments come first (cron's tick lock,
/// `lua/cron_enqueue.lua`). Returns the id and the script's reply.
pub(crate) async fn enqueue_via(
    store: &Store,
    job: NewJob,
    script: &redis::Script,
    extra_keys: &[String],
    lead_args: &[String],
) -> Result<(String, String)> {
    let now = time::now();
    let p = prepare(job, &time::format_rq(now))?;
    let n = p.parents.len();
    let mut inv = script.prepare_invoke();
    inv.key(keys::QUEUES)
        .key(&p.job_key)
        .key(&p.queue_key)
        .key(keys::deferred(&p.queue))
        .key(keys::scheduled(&p.queue))
        .key(keys::dependencies(&p.id))
        .key(keys::dependents(&p.id));
    for parent in &p.parents {
        inv.key(keys::job(parent));
    }
    for parent in &p.parents {
        inv.key(keys::dependents(parent));
    }
    for k in extra_keys {
        inv.key(k);
    }
    for a in lead_args {
        inv.arg(a);
    }
    inv.arg(&p.id)
        .arg(n)
        .arg(if p.at_front { "1" } else { "0" })
        .arg(p.ttl_arg())
        .arg(now.floor() as i64)
        .arg(p.schedule_score.map(|s| s.to_string()).unwrap_or_default());
    for parent in &p.parents {
        inv.arg(parent);
    }
    for (f, v) in &p.fields {
        inv.arg(*f).arg(v.as_slice());
    }
    let status: String = inv.invoke_async(&mut store.conn()).await?;
    Ok((p.id, status))
}

/// Creates many jobs. Plain jobs (no dependencies, no schedule) go to Redis in `enqueue_many.lua`
/// calls of up to [`BATCH`] jobs, each all-or-nothing; the others follow one by one, in order, so
/// a job may depend on one created earlier in the same call. Ids are returned in input order.
/// Every job is validated before anything is written; a taken id (`DuplicateJob`) stops the call
/// at the batch that holds it, with earlier batches already written.
pub async fn enqueue_many(store: &Store, jobs: Vec<NewJob>) -> Result<Vec<String>> {
    let stamp = time::format_rq(time::now());
    let mut ids = Vec::with_capacity(jobs.len());
    let mut plain = Vec::new();
    let mut special = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for job in jobs {
        let is_plain = job.depends_on.is_empty() && job.schedule_at.is_none();
        if is_plain {
            let p = prepare(job, &stamp)?;
            ids.push(p.id.clone());
            plain.push(p);
        } else {
            // Fix the id now so the returned order matches the input, and validate now so that
            // a bad job fails the call before anything is written.
            let mut job = job;
            let id = job.id.get_or_insert_with(uuid4).clone();
            prepare(job.clone(), &stamp)?;
            ids.push(id);
            special.push(job);
        }
        let id = ids.last().map(String::as_str).unwrap_or_default();
        if !seen.insert(id.to_string()) {
            return Err(Error::DuplicateJob(id.to_string()));
        }
    }
    let mut conn = store.conn();
    for chunk in plain.chunks(BATCH) {
        let dup: usize = batch_invocation(chunk).invoke_async(&mut conn).await?;
        if dup > 0 {
            let id = chunk.get(dup - 1).map(|p| p.id.clone()).unwrap_or_default();
            return Err(Error::DuplicateJob(id));
        }
    }
    for job in special {
        enqueue(store, job).await?;
    }
    Ok(ids)
}

/// One `enqueue_many.lua` call: jobs grouped by template (every field but `data` and
/// `description`, plus queue, push side and ttl), each template sent once.
fn batch_invocation(chunk: &[Prepared]) -> redis::ScriptInvocation<'static> {
    let mut templates: Vec<&Prepared> = Vec::new();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut job_template = Vec::with_capacity(chunk.len());
    for p in chunk {
        let mut shape = Vec::with_capacity(256);
        shape.extend_from_slice(p.queue_key.as_bytes());
        shape.push(0);
        shape.extend_from_slice(p.ttl_arg().as_bytes());
        shape.push(if p.at_front { 1 } else { 0 });
        for (f, v) in &p.fields {
            shape.extend_from_slice(f.as_bytes());
            shape.push(0);
            if !matches!(*f, "data" | "description") {
                shape.extend_from_slice(&(v.len() as u64).to_le_bytes());
                shape.extend_from_slice(v);
            }
        }
        let next = templates.len();
        let t = *index.entry(shape).or_insert(next);
        if t == next {
            templates.push(p);
        }
        job_template.push(t + 1);
    }
    let mut inv = ENQUEUE_MANY.prepare_invoke();
    inv.key(keys::QUEUES);
    for t in &templates {
        inv.key(&t.queue_key);
    }
    inv.arg(templates.len());
    for t in &templates {
        inv.arg(if t.at_front { "1" } else { "0" })
            .arg(t.ttl_arg())
            .arg(t.fields.len() * 2);
        for (f, v) in &t.fields {
            let v: &[u8] = if matches!(*f, "data" | "description") {
                b""
            } else {
                v
            };
            inv.arg(*f).arg(v);
        }
    }
    for (p, t) in chunk.iter().zip(job_template) {
        inv.key(&p.job_key);
        inv.arg(t)
            .arg(&p.id)
            .arg(p.field("data"))
            .arg(p.field("description"));
    }
    inv
}

/// A job hash's field / value pairs in RQ's write order.
pub(crate) type Fields = Vec<(&'static str, Vec<u8>)>;

/// A plain job's id, queue name and hash fields in RQ's write order (`status` = queued), for a
/// script that writes the job as part of a larger step (`chord_fire.lua`). Validated like
/// [`enqueue`]; dependencies and schedules are refused.
pub(crate) fn plain_fields(job: NewJob) -> Result<(String, String, Fields)> {
    if !job.depends_on.is_empty() || job.schedule_at.is_some() {
        return Err(Error::Invalid(
            "a chord callback has no dependencies or schedule".into(),
        ));
    }
    let p = prepare(job, &time::format_rq(time::now()))?;
    Ok((p.id, p.queue, p.fields))
}

/// A random (version 4) UUID in its 8-4-4-4-12 text form, like Python's `str(uuid4())`.
pub fn uuid4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid4_shape() {
        let u = uuid4();
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(uuid4(), u);
    }
}
