//! The data model shared with the console, including its wasm half: plain serde types, no Redis.
//! Readers build these from raw Redis replies; every field that may be missing or corrupt in real
//! data is an `Option` or carries an `Undecodable` marker instead of failing the whole read.

use serde::{Deserialize, Serialize};

pub use crate::value::PyValue;

#[cfg(feature = "openapi")]
pub mod schema;
mod stats;
pub use stats::{
    duration_bucket, quantile, FunctionStats, Series, StatsMetric, StatsRange, DURATION_BOUNDS,
    DURATION_BUCKETS,
};

/// A job's `status` field. Unknown strings are kept verbatim so nothing is hidden.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Created,
    Queued,
    Started,
    Finished,
    Failed,
    Deferred,
    Scheduled,
    Stopped,
    Canceled,
    #[serde(untagged)]
    Other(String),
}

impl JobStatus {
    pub fn parse(s: &str) -> JobStatus {
        match s {
            "created" => JobStatus::Created,
            "queued" => JobStatus::Queued,
            "started" => JobStatus::Started,
            "finished" => JobStatus::Finished,
            "failed" => JobStatus::Failed,
            "deferred" => JobStatus::Deferred,
            "scheduled" => JobStatus::Scheduled,
            "stopped" => JobStatus::Stopped,
            "canceled" => JobStatus::Canceled,
            other => JobStatus::Other(other.to_string()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Created => "created",
            JobStatus::Queued => "queued",
            JobStatus::Started => "started",
            JobStatus::Finished => "finished",
            JobStatus::Failed => "failed",
            JobStatus::Deferred => "deferred",
            JobStatus::Scheduled => "scheduled",
            JobStatus::Stopped => "stopped",
            JobStatus::Canceled => "canceled",
            JobStatus::Other(s) => s,
        }
    }
}

/// Where a job id can be listed: the queue list itself or one of RQ's six registries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobList {
    Queued,
    Started,
    Finished,
    Failed,
    Deferred,
    Scheduled,
    Canceled,
}

impl JobList {
    pub const ALL: [JobList; 7] = [
        JobList::Queued,
        JobList::Started,
        JobList::Finished,
        JobList::Failed,
        JobList::Deferred,
        JobList::Scheduled,
        JobList::Canceled,
    ];
    pub fn parse(s: &str) -> Option<JobList> {
        JobList::ALL.into_iter().find(|l| l.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            JobList::Queued => "queued",
            JobList::Started => "started",
            JobList::Finished => "finished",
            JobList::Failed => "failed",
            JobList::Deferred => "deferred",
            JobList::Scheduled => "scheduled",
            JobList::Canceled => "canceled",
        }
    }
}

/// Per-queue counts, all from LLEN / ZCARD (never a cleanup, never a walk).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueCounts {
    pub name: String,
    pub queued: u64,
    pub started: u64,
    pub finished: u64,
    pub failed: u64,
    pub deferred: u64,
    pub scheduled: u64,
    pub canceled: u64,
    /// Age in seconds of the job at the head of the queue (its `enqueued_at`), if any.
    pub oldest_queued_age: Option<f64>,
}

impl QueueCounts {
    pub fn get(&self, list: JobList) -> u64 {
        match list {
            JobList::Queued => self.queued,
            JobList::Started => self.started,
            JobList::Finished => self.finished,
            JobList::Failed => self.failed,
            JobList::Deferred => self.deferred,
            JobList::Scheduled => self.scheduled,
            JobList::Canceled => self.canceled,
        }
    }
}

/// Worker state as a console shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerInfo {
    pub name: String,
    pub hostname: Option<String>,
    pub pid: Option<i64>,
    pub ip_address: Option<String>,
    pub version: Option<String>,
    pub python_version: Option<String>,
    pub queues: Vec<String>,
    /// `started`, `idle`, `busy`, `suspended` or `?`.
    pub state: String,
    pub current_job: Option<String>,
    pub current_job_working_time: Option<f64>,
    pub birth: Option<f64>,
    pub last_heartbeat: Option<f64>,
    pub death: Option<f64>,
    pub successful_job_count: u64,
    pub failed_job_count: u64,
    pub total_working_time: f64,
    /// Seconds since the last heartbeat at snapshot time.
    pub heartbeat_age: Option<f64>,
    /// Listed in `rq:workers` but its hash is gone, or its heartbeat is older than its TTL.
    pub stale: bool,
    /// Set for Taskmill workers: the pool (process) this slot belongs to and its slot count.
    pub pool: Option<PoolInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolInfo {
    pub pool_id: String,
    pub concurrency: u64,
    /// `python` for a `taskmill pool` supervising `rq worker` processes; `None` = Taskmill's own.
    #[serde(default)]
    pub kind: Option<String>,
    /// Python pools: processes wanted, processes running, and the bounds.
    #[serde(default)]
    pub actual: Option<u64>,
    #[serde(default)]
    pub min: Option<u64>,
    #[serde(default)]
    pub max: Option<u64>,
}

impl PoolInfo {
    pub fn is_python(&self) -> bool {
        self.kind.as_deref() == Some("python")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedisInfo {
    pub version: String,
    pub used_memory: u64,
    pub used_memory_human: String,
    pub connected_clients: u64,
}

/// Totals across queues, per state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    pub queued: u64,
    pub started: u64,
    pub finished: u64,
    pub failed: u64,
    pub deferred: u64,
    pub scheduled: u64,
    pub canceled: u64,
    pub workers_busy: u64,
    pub workers_idle: u64,
    pub workers_stale: u64,
}

/// Everything the overview, `/metrics` and the live counters need, read with
/// O(queues + workers) commands in a few pipelines.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snapshot {
    /// Unix seconds when the snapshot was taken.
    pub taken_at: f64,
    pub queues: Vec<QueueCounts>,
    pub workers: Vec<WorkerInfo>,
    pub totals: Totals,
    /// `rq:suspended` exists.
    pub suspended: bool,
    pub redis: RedisInfo,
    /// `(queue, lock owner)` for each `rq:scheduler-lock:<q>` that exists.
    pub scheduler_locks: Vec<(String, String)>,
}

/// A decoded payload value, or why it could not be decoded plus a safe preview of the bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Decoded {
    Ok {
        codec: Codec,
        value: PyValue,
        /// Some opcodes or objects were shown symbolically or truncated.
        lossy: bool,
    },
    Undecodable {
        reason: String,
        /// Printable preview of the raw bytes (escaped, truncated).
        raw: String,
        len: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    Json,
    Pickle,
}

/// The `data` field split into RQ's 4-tuple `(func_name, instance, args, kwargs)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Call {
    pub codec: Codec,
    pub func_name: String,
    pub instance: PyValue,
    pub args: Vec<PyValue>,
    pub kwargs: Vec<(String, PyValue)>,
    pub lossy: bool,
}

/// One row of a job list page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobSummary {
    pub id: String,
    /// False when the id is listed but `rq:job:<id>` is gone.
    pub exists: bool,
    pub status: Option<JobStatus>,
    pub origin: Option<String>,
    pub func_name: Option<String>,
    pub description: Option<String>,
    pub created_at: Option<f64>,
    pub enqueued_at: Option<f64>,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    pub worker_name: Option<String>,
    /// Registry score (expiry / scheduled time / event time, per registry) if listed from one.
    pub score: Option<f64>,
    /// Last line of the latest failure's traceback, e.g. `ValueError: boom`.
    pub exc_summary: Option<String>,
    /// Why the hash could not be fully read, if it could not.
    pub problem: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// `rq:results:<id>` entry types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResultType {
    Successful,
    Failed,
    Stopped,
    Retried,
    MaxRetriesExceeded,
    Unknown,
}

impl ResultType {
    pub fn from_code(code: &str) -> ResultType {
        match code {
            "1" => ResultType::Successful,
            "2" => ResultType::Failed,
            "3" => ResultType::Stopped,
            "4" => ResultType::Retried,
            "5" => ResultType::MaxRetriesExceeded,
            _ => ResultType::Unknown,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            ResultType::Successful => "1",
            ResultType::Failed => "2",
            ResultType::Stopped => "3",
            ResultType::Retried => "4",
            ResultType::MaxRetriesExceeded => "5",
            ResultType::Unknown => "0",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobResult {
    /// Stream entry id; its millisecond part is the creation time.
    pub id: String,
    pub created_at: Option<f64>,
    pub kind: ResultType,
    pub worker_name: Option<String>,
    pub return_value: Option<Decoded>,
    pub exc_string: Option<String>,
    pub execution_id: Option<String>,
    pub execution_started_at: Option<f64>,
    pub execution_ended_at: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Execution {
    pub id: String,
    pub worker_name: Option<String>,
    pub created_at: Option<f64>,
    pub last_heartbeat: Option<f64>,
}

/// Everything known about one job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobDetail {
    pub summary: JobSummary,
    /// The call, or why `data` could not be decoded.
    #[cfg_attr(feature = "openapi", schema(value_type = schema::CallOrNot))]
    pub call: Result<Call, Decoded>,
    pub meta: Option<Decoded>,
    pub timeout: Option<i64>,
    pub result_ttl: Option<i64>,
    pub failure_ttl: Option<i64>,
    pub ttl: Option<i64>,
    pub last_heartbeat: Option<f64>,
    pub retries_left: Option<i64>,
    pub retry_intervals: Vec<i64>,
    pub number_of_retries: Option<i64>,
    pub repeats_left: Option<i64>,
    pub group_id: Option<String>,
    pub at_front: bool,
    pub dependency_ids: Vec<String>,
    pub dependents: Vec<String>,
    pub allow_dependency_failures: bool,
    /// Newest first, every entry of `rq:results:<id>` (the stream is capped at ~10 by RQ).
    pub results: Vec<JobResult>,
    pub executions: Vec<Execution>,
    /// Legacy hash fields, decoded.
    pub legacy_result: Option<Decoded>,
    pub legacy_exc_info: Option<String>,
    /// TTL of `rq:job:<id>` in seconds, -1 = none.
    pub key_ttl: i64,
    /// Every raw hash field as (name, printable preview), for the "raw" view.
    pub raw_fields: Vec<(String, String)>,
    /// What happened to the job, oldest first (`engine::timeline`).
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
}

/// One audit-log record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub at: f64,
    pub who: String,
    pub action: String,
    pub target: String,
    pub count: u64,
}

/// One failure group (`engine::groups`): failures with the same fingerprint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureGroup {
    /// 16 hex digits, or `undecodable`.
    pub fingerprint: String,
    /// `ValueError`, ...; empty when the failure text names no exception type.
    pub exc_type: String,
    /// The first indexed failure's `Type: message` (job data: escape when shown).
    pub example: String,
    pub count: u64,
    /// Queues and functions, most failures first.
    pub queues: Vec<String>,
    pub functions: Vec<String>,
    /// Failure times (unix seconds) of the oldest and newest failure in the group.
    pub first_seen: Option<f64>,
    pub last_seen: Option<f64>,
    /// The trend: failures of the group in the last hour and the last 24 hours.
    pub last_hour: u64,
    pub last_day: u64,
    /// Which system's failures: `rq` or `celery` (`engine::celery::groups`).
    #[serde(default = "rq_backend")]
    pub backend: String,
}

fn rq_backend() -> String {
    "rq".into()
}

/// The groups view: largest group first, and how fresh the index is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureGroups {
    /// Start of the index's last complete pass: every change before it is counted. `None`
    /// until the first pass ends.
    pub as_of: Option<f64>,
    pub items: Vec<FailureGroup>,
}

/// One page of search results (`GET /api/v1/search`): the matches, the cursor to continue
/// (`None`: the search reached the end) and how many jobs were examined so far. `exact` is set
/// when the query was the id of an existing job (the console goes straight to its page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchPage {
    pub items: Vec<JobSummary>,
    pub cursor: Option<String>,
    pub scanned: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
}

/// One dependency of a deferred job and its current status (`None`: hash gone or no status).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dependency {
    pub id: String,
    pub status: Option<JobStatus>,
}

/// A row of the cross-queue deferred view: the job and what it waits on. Serialised flat: a
/// `JobSummary` with two more fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeferredJob {
    #[serde(flatten)]
    pub job: JobSummary,
    /// Up to `engine::registry::MAX_DEPS_PER_JOB` dependencies, by id.
    pub depends_on: Vec<Dependency>,
    /// How many dependencies the job has in all (`SCARD`).
    pub depends_on_total: u64,
}

/// What a timeline step was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Created,
    /// The latest (re)enqueue: RQ overwrites `enqueued_at` each time.
    Enqueued,
    /// An execution began (`worker`, and `duration` once it ended).
    Started,
    /// Result entries: success, failure, stop, a returned `Retry`, retries exhausted.
    Succeeded,
    Failed,
    Stopped,
    Retried,
    MaxRetriesExceeded,
    /// The state the job is in now (`detail` = status, and retries left if any).
    Now,
}

/// One step of a job's timeline (`engine::timeline::build`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    pub kind: TimelineKind,
    /// Unix seconds, when known.
    pub at: Option<f64>,
    pub worker: Option<String>,
    /// Seconds the execution ran (started → its result), for `started`.
    pub duration: Option<f64>,
    /// The exception line of a failure, or the status for `now` (job data: escape when shown).
    pub detail: Option<String>,
}
