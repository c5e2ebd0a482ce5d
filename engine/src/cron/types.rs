//! The Cron page's data: every cron scheduler registered in `rq:cron_schedulers` (Python
//! `rq cron` and Taskmill's alike) and their jobs. Plain serde types, no Redis.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CronOverview {
    pub schedulers: Vec<CronSchedulerInfo>,
    /// More schedulers are registered than one read shows.
    pub truncated: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CronSchedulerInfo {
    pub name: String,
    /// `taskmill` (a `version` field starting with `taskmill-`) or `rq`.
    pub kind: String,
    pub hostname: Option<String>,
    pub pid: Option<i64>,
    pub created_at: Option<f64>,
    pub config_file: Option<String>,
    /// The registry score: last heartbeat, unix seconds.
    pub last_heartbeat: Option<f64>,
    /// Heartbeat older than RQ's 120 s, or the hash is gone.
    pub stale: bool,
    pub jobs: Vec<CronJobInfo>,
    /// `cron_jobs` could not be decoded: why.
    pub undecodable: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CronJobInfo {
    pub name: String,
    pub func_name: String,
    pub queue_name: String,
    pub cron: Option<String>,
    pub interval: Option<u64>,
    /// IANA zone of a Taskmill cron schedule (RQ's are UTC).
    pub timezone: Option<String>,
    pub args: Option<String>,
    pub kwargs: Option<String>,
    pub next_enqueue_time: Option<f64>,
    /// Last enqueue by any scheduler (`rq:cron_job:<name>:jobs`), else this scheduler's own.
    pub latest_enqueue_time: Option<f64>,
    pub last_job_id: Option<String>,
    /// The last job's `status`; `None` when its hash is gone (expired after `result_ttl`).
    pub last_job_status: Option<String>,
}

impl CronJobInfo {
    /// "30 2 * * * (Europe/Berlin)", "every 300 s".
    pub fn schedule_text(&self) -> String {
        match (&self.cron, self.interval) {
            (Some(c), _) => match &self.timezone {
                Some(tz) => format!("{c} ({tz})"),
                None => format!("{c} (UTC)"),
            },
            (None, Some(i)) => format!("every {i} s"),
            (None, None) => "?".into(),
        }
    }
}
