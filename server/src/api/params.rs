//! The path and query parameters of the API as the OpenAPI document states them
//! (`utoipa::IntoParams`). Routes read them through `extract::{Seg, Params}`, which turn bad
//! input into our JSON 400s; these types carry the constraints those checks enforce (lengths,
//! patterns, ranges, enums), so a generated client or a fuzzer sends meaningful input. The
//! enums are the engine's own types (`JobList`, `StatsMetric`, `StatsRange`, `Format`), and a
//! test pins the numeric bounds to the constants the checks use.

#![allow(dead_code)] // Fields are read by the OpenAPI derive only.

use engine::export::Format;
use engine::model::{JobList, StatsMetric, StatsRange};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// `{name}`: a queue (1-200 bytes, no control characters: `engine::limits`).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct QueueName {
    #[param(min_length = 1, max_length = 200)]
    pub name: String,
}

/// `{id}`: a job id (`[A-Za-z0-9_-]`, 1-128 bytes).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct JobId {
    #[param(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    pub id: String,
}

/// `{name}`: an RQ worker (1-512 bytes, no control characters).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WorkerName {
    #[param(min_length = 1, max_length = 512)]
    pub name: String,
}

/// `{fingerprint}`: a failure group (16 hex digits, or `undecodable`).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Fingerprint {
    #[param(pattern = "^([0-9a-f]{16}|undecodable)$")]
    pub fingerprint: String,
}

/// `{name}`: a chord (RQ group) or a cron job, by name.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Name {
    #[param(min_length = 1, max_length = 200)]
    pub name: String,
}

/// `{hostname}`: a Celery worker's node name (`celery@host`).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Hostname {
    #[param(min_length = 1, max_length = 512)]
    pub hostname: String,
}

/// `{id}`: a Celery task id.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskId {
    #[param(min_length = 1, max_length = 200)]
    pub id: String,
}

/// `offset` and `limit` of every paged list (`extract::Params::window`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// Rows to skip (default 0).
    #[param(minimum = 0, maximum = 4611686018427387903_u64)]
    pub offset: Option<u64>,
    /// Rows to return (default 25).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

/// Which of a queue's lists (default `queued`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub list: Option<JobList>,
}

/// `?dry_run=1`: count what the action would touch, change nothing.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    pub dry_run: Option<DryRun>,
}

#[derive(Serialize, ToSchema)]
pub enum DryRun {
    #[serde(rename = "1")]
    One,
    #[serde(rename = "0")]
    Zero,
    #[serde(rename = "true")]
    True,
    #[serde(rename = "false")]
    False,
}

/// `?backend=`: one system's failure groups (default both).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BackendQuery {
    pub backend: Option<Backend>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Rq,
    Celery,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    pub metric: StatsMetric,
    /// Default `24h`.
    pub range: Option<StatsRange>,
    /// One queue's series (metrics kept per queue); all queues when absent.
    #[param(min_length = 1, max_length = 200)]
    pub queue: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// Default `24h`.
    pub range: Option<StatsRange>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The query: free text, `"phrases"`, `queue:` `status:` `func:` `worker:` `exc:` filters,
    /// or a job id.
    #[param(max_length = 500)]
    pub q: String,
    /// The previous page's `cursor` (RQ side).
    pub cursor: Option<String>,
    /// The previous page's `celery.cursor` (Celery side).
    pub celery_cursor: Option<String>,
    /// Matches per page (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// The search actions: the query whose matches they act on.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchTarget {
    #[param(max_length = 500)]
    pub q: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Default `csv`.
    pub format: Option<Format>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectQuery {
    /// Default `stats`.
    pub method: Option<InspectMethod>,
}

/// `super::celery::INSPECT`, as an enum for the document.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InspectMethod {
    Stats,
    Active,
    Reserved,
    Scheduled,
    Registered,
    ActiveQueues,
    Revoked,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// Only tasks in this state (`PENDING`, `STARTED`, `SUCCESS`, `FAILURE`, ...).
    pub state: Option<String>,
    /// Only tasks of this name.
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn bounds_match_the_checks() {
        assert_eq!(crate::extract::MAX_LIMIT, 500);
        assert_eq!(4611686018427387903_u64, i64::MAX as u64 / 2);
        assert_eq!(engine::limits::MAX_SEARCH_LIMIT, 100);
        assert_eq!(engine::limits::MAX_SEARCH_QUERY_LEN, 500);
        assert_eq!(engine::limits::MAX_IDS, 1000);
        assert_eq!(engine::limits::MAX_SUSPEND_SECS, 31536000);
        assert_eq!(engine::limits::MAX_SLOTS, 256);
        assert_eq!(engine::limits::MAX_JOB_ID_LEN, 128);
        assert_eq!(engine::limits::MAX_QUEUE_NAME_LEN, 200);
        assert_eq!(engine::limits::MAX_WORKER_NAME_LEN, 512);
        let methods = [
            "stats",
            "active",
            "reserved",
            "scheduled",
            "registered",
            "active_queues",
            "revoked",
        ];
        assert_eq!(super::super::celery::INSPECT, methods);
        use super::InspectMethod as M;
        let all = [
            M::Stats,
            M::Active,
            M::Reserved,
            M::Scheduled,
            M::Registered,
            M::ActiveQueues,
            M::Revoked,
        ];
        for (m, s) in all.iter().zip(methods) {
            assert_eq!(serde_json::to_value(m).unwrap(), s);
        }
    }
}
