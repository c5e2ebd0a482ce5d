//! The operator vocabulary: every action an operator can take, with its one canonical name, its
//! input bounds and its audit target. The console's server functions, the JSON API and the CLI
//! only build an [`Action`] from their input and render its [`Outcome`]; what an action checks,
//! does and records lives here and in `perform`.

use serde::{Deserialize, Serialize};

use super::stop::StopOutcome;
use super::JobsOutcome;
use crate::enqueue::NewJob;
use crate::{limits, Result};

/// One operator action. `expected` is the count the operator confirmed ("Requeue 1,234 failed
/// jobs?"): when given, the action is refused as a conflict if the live count differs.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Enqueue {
        job: Box<NewJob>,
    },
    Requeue {
        ids: Vec<String>,
    },
    Cancel {
        ids: Vec<String>,
    },
    Delete {
        ids: Vec<String>,
    },
    EnqueueNow {
        ids: Vec<String>,
    },
    Stop {
        id: String,
    },
    RequeueQueue {
        queue: String,
        expected: Option<u64>,
    },
    RequeueAll {
        expected: Option<u64>,
    },
    Empty {
        queue: String,
        expected: Option<u64>,
    },
    Shutdown {
        worker: String,
    },
    KillHorse {
        worker: String,
    },
    Scale {
        worker: String,
        slots: u64,
    },
    Suspend {
        secs: Option<u64>,
    },
    Resume,
    RequeueGroup {
        fingerprint: String,
        expected: Option<u64>,
    },
    DeleteGroup {
        fingerprint: String,
        expected: Option<u64>,
    },
    RequeueSearch {
        query: String,
        expected: Option<u64>,
    },
    DeleteSearch {
        query: String,
        expected: Option<u64>,
    },
    CancelSearch {
        query: String,
        expected: Option<u64>,
    },
    /// An RQ group with a callback (`crate::chord`): `POST /api/v1/groups`, `taskmill chord`.
    CreateChord {
        chord: Box<crate::chord::NewChord>,
    },
    /// Enqueue a cron job's job now, outside its schedule (any registered scheduler's job).
    RunCron {
        name: String,
    },
    // Celery (run by `crate::celery::perform` against the broker given to `taskmill serve`).
    CeleryRevoke {
        id: String,
        terminate: bool,
        signal: Option<String>,
    },
    CeleryRetry {
        id: String,
    },
    CeleryPoolGrow {
        worker: String,
        n: u64,
    },
    CeleryPoolShrink {
        worker: String,
        n: u64,
    },
    CeleryAutoscale {
        worker: String,
        max: u64,
        min: u64,
    },
    CeleryRateLimit {
        worker: String,
        task: String,
        rate: String,
    },
    CeleryTimeLimit {
        worker: String,
        task: String,
        soft: Option<f64>,
        hard: Option<f64>,
    },
    CeleryAddConsumer {
        worker: String,
        queue: String,
    },
    CeleryCancelConsumer {
        worker: String,
        queue: String,
    },
    CeleryShutdown {
        worker: String,
    },
    CeleryPoolRestart {
        worker: String,
    },
    /// Retry every failed task of one Celery failure group (`crate::celery::groups`), each as
    /// `CeleryRetry` does; `expected` as the RQ group actions.
    CeleryRetryGroup {
        fingerprint: String,
        expected: Option<u64>,
    },
}

/// The canonical names of the Celery actions (audit records, docs/contracts.md).
pub const CELERY_NAMES: [&str; 12] = [
    "celery-revoke",
    "celery-retry",
    "celery-pool-grow",
    "celery-pool-shrink",
    "celery-autoscale",
    "celery-rate-limit",
    "celery-time-limit",
    "celery-add-consumer",
    "celery-cancel-consumer",
    "celery-shutdown",
    "celery-pool-restart",
    "celery-retry-group",
];

/// Every canonical name, as written into audit records and documented in docs/contracts.md.
pub const NAMES: [&str; 21] = [
    "enqueue",
    "requeue",
    "cancel",
    "delete",
    "enqueue-now",
    "stop",
    "requeue-queue",
    "requeue-all",
    "empty",
    "shutdown",
    "kill-horse",
    "scale",
    "suspend",
    "resume",
    "requeue-group",
    "delete-group",
    "create-chord",
    "requeue-search",
    "delete-search",
    "cancel-search",
    "run-cron",
];

/// What an action did. Serialised untagged, each variant is the JSON body the API answers with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Outcome {
    /// Per-id actions: ids changed and ids skipped with the reason.
    Jobs(JobsOutcome),
    /// Enqueue: the new job's id.
    Enqueued {
        id: String,
    },
    /// Requeue-queue, requeue-all, empty, requeue-group, delete-group, the search actions: how
    /// many jobs moved.
    Moved {
        count: u64,
    },
    /// Shutdown, kill-horse, scale: PUBLISH's receiver count (0 = nobody listening).
    Sent {
        receivers: u64,
    },
    Stop(StopOutcome),
    /// Suspend / resume: the state now.
    Suspended {
        suspended: bool,
    },
    /// Create-chord: the group made (name, members, callback id, status).
    Chord(crate::chord::Created),
    /// Celery control commands: each worker's reply, by node name.
    Replies {
        replies: std::collections::BTreeMap<String, serde_json::Value>,
    },
}

impl Outcome {
    /// The audit record's count: jobs changed, jobs moved, or receivers reached.
    pub fn count(&self) -> u64 {
        match self {
            Outcome::Jobs(o) => o.count(),
            Outcome::Enqueued { .. } | Outcome::Suspended { .. } => 1,
            Outcome::Moved { count } => *count,
            Outcome::Sent { receivers } => *receivers,
            Outcome::Stop(s) => u64::from(matches!(s, StopOutcome::Sent { .. })),
            Outcome::Chord(c) => c.members.len() as u64,
            Outcome::Replies { replies } => replies.len() as u64,
        }
    }
}

impl Action {
    /// The canonical name (audit records, docs/contracts.md, `/ui/<name>` endpoints).
    pub fn name(&self) -> &'static str {
        match self {
            Action::Enqueue { .. } => "enqueue",
            Action::Requeue { .. } => "requeue",
            Action::Cancel { .. } => "cancel",
            Action::Delete { .. } => "delete",
            Action::EnqueueNow { .. } => "enqueue-now",
            Action::Stop { .. } => "stop",
            Action::RequeueQueue { .. } => "requeue-queue",
            Action::RequeueAll { .. } => "requeue-all",
            Action::Empty { .. } => "empty",
            Action::Shutdown { .. } => "shutdown",
            Action::KillHorse { .. } => "kill-horse",
            Action::Scale { .. } => "scale",
            Action::Suspend { .. } => "suspend",
            Action::Resume => "resume",
            Action::RequeueGroup { .. } => "requeue-group",
            Action::DeleteGroup { .. } => "delete-group",
            Action::RequeueSearch { .. } => "requeue-search",
            Action::DeleteSearch { .. } => "delete-search",
            Action::CancelSearch { .. } => "cancel-search",
            Action::CreateChord { .. } => "create-chord",
            Action::RunCron { .. } => "run-cron",
            Action::CeleryRevoke { .. } => "celery-revoke",
            Action::CeleryRetry { .. } => "celery-retry",
            Action::CeleryPoolGrow { .. } => "celery-pool-grow",
            Action::CeleryPoolShrink { .. } => "celery-pool-shrink",
            Action::CeleryAutoscale { .. } => "celery-autoscale",
            Action::CeleryRateLimit { .. } => "celery-rate-limit",
            Action::CeleryTimeLimit { .. } => "celery-time-limit",
            Action::CeleryAddConsumer { .. } => "celery-add-consumer",
            Action::CeleryCancelConsumer { .. } => "celery-cancel-consumer",
            Action::CeleryShutdown { .. } => "celery-shutdown",
            Action::CeleryPoolRestart { .. } => "celery-pool-restart",
            Action::CeleryRetryGroup { .. } => "celery-retry-group",
        }
    }

    /// Whether this action is for Celery (it needs the console's Celery broker).
    pub fn is_celery(&self) -> bool {
        self.name().starts_with("celery-")
    }

    /// Checks the input against [`crate::limits`], without Redis.
    pub fn validate(&self) -> Result<()> {
        match self {
            // The rest (function name, TTLs, self-dependency) is checked by `enqueue` itself.
            Action::Enqueue { job } => {
                limits::validate_queue_name(&job.queue)?;
                job.id
                    .iter()
                    .chain(&job.depends_on)
                    .try_for_each(|id| limits::validate_job_id(id))
            }
            Action::Requeue { ids }
            | Action::Cancel { ids }
            | Action::Delete { ids }
            | Action::EnqueueNow { ids } => limits::validate_ids(ids),
            Action::Stop { id } => limits::validate_job_id(id),
            Action::RequeueQueue { queue, .. } | Action::Empty { queue, .. } => {
                limits::validate_queue_name(queue)
            }
            Action::Shutdown { worker } | Action::KillHorse { worker } => {
                limits::validate_worker_name(worker)
            }
            Action::Scale { worker, slots } => {
                limits::validate_worker_name(worker)?;
                limits::validate_slots(*slots).map(|_| ())
            }
            Action::Suspend { secs } => limits::validate_suspend(*secs).map(|_| ()),
            Action::RequeueGroup { fingerprint, .. } | Action::DeleteGroup { fingerprint, .. } => {
                limits::validate_fingerprint(fingerprint)
            }
            Action::RequeueSearch { query, .. }
            | Action::DeleteSearch { query, .. }
            | Action::CancelSearch { query, .. } => crate::search::query::parse(query).map(|_| ()),
            Action::RequeueAll { .. } | Action::Resume => Ok(()),
            Action::CreateChord { chord } => {
                if let Some(n) = &chord.name {
                    limits::validate_group_name(n)?;
                }
                if chord.jobs.len() + chord.enqueue.len() > limits::MAX_GROUP_MEMBERS {
                    return Err(crate::Error::Invalid(format!(
                        "a chord has at most {} members",
                        limits::MAX_GROUP_MEMBERS
                    )));
                }
                limits::validate_queue_name(&chord.callback.queue)?;
                chord
                    .jobs
                    .iter()
                    .try_for_each(|id| limits::validate_job_id(id))
            }
            Action::RunCron { name } => limits::validate_cron_name(name),
            _ => crate::celery::perform::validate(self),
        }
    }

    /// What the audit record names as the target.
    pub fn target(&self, outcome: &Outcome) -> String {
        match (self, outcome) {
            (Action::Enqueue { .. }, Outcome::Enqueued { id }) => id.clone(),
            (Action::Enqueue { job }, _) => job.queue.clone(),
            (
                Action::Requeue { ids }
                | Action::Cancel { ids }
                | Action::Delete { ids }
                | Action::EnqueueNow { ids },
                _,
            ) => ids_target(ids),
            (Action::Stop { id }, _) => id.clone(),
            (Action::RequeueQueue { queue, .. } | Action::Empty { queue, .. }, _) => queue.clone(),
            (Action::Shutdown { worker } | Action::KillHorse { worker }, _) => worker.clone(),
            (Action::Scale { worker, slots }, _) => format!("{worker} → {slots}"),
            (Action::Suspend { secs: Some(s) }, _) => format!("all workers, {s} s"),
            (Action::Suspend { secs: None } | Action::Resume, _) => "all workers".into(),
            (Action::RequeueAll { .. }, _) => "*".into(),
            (
                Action::RequeueGroup { fingerprint, .. } | Action::DeleteGroup { fingerprint, .. },
                _,
            ) => format!("group {fingerprint}"),
            (
                Action::RequeueSearch { query, .. }
                | Action::DeleteSearch { query, .. }
                | Action::CancelSearch { query, .. },
                _,
            ) => format!("search {:?}", crate::value::truncate_chars(query, 200)),
            (Action::CreateChord { .. }, Outcome::Chord(c)) => format!("chord {}", c.name),
            (Action::CreateChord { chord }, _) => {
                format!("chord {}", chord.name.as_deref().unwrap_or("(new)"))
            }
            (Action::RunCron { name }, Outcome::Enqueued { id }) => format!("cron {name} → {id}"),
            (Action::RunCron { name }, _) => format!("cron {name}"),
            _ => crate::celery::perform::target(self),
        }
    }
}

/// A set of ids as an audit target: the first five, then how many more.
pub fn ids_target(ids: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut t = ids
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    if ids.len() > SHOWN {
        t.push_str(&format!(" (+{} more)", ids.len() - SHOWN));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_action() -> Vec<Action> {
        let ids = vec!["a".to_string()];
        vec![
            Action::Enqueue {
                job: Box::new(NewJob::new("q", "f")),
            },
            Action::Requeue { ids: ids.clone() },
            Action::Cancel { ids: ids.clone() },
            Action::Delete { ids: ids.clone() },
            Action::EnqueueNow { ids },
            Action::Stop { id: "a".into() },
            Action::RequeueQueue {
                queue: "q".into(),
                expected: None,
            },
            Action::RequeueAll { expected: None },
            Action::Empty {
                queue: "q".into(),
                expected: Some(1),
            },
            Action::Shutdown { worker: "w".into() },
            Action::KillHorse { worker: "w".into() },
            Action::Scale {
                worker: "w".into(),
                slots: 2,
            },
            Action::Suspend { secs: None },
            Action::Resume,
            Action::RequeueGroup {
                fingerprint: "0123456789abcdef".into(),
                expected: Some(3),
            },
            Action::DeleteGroup {
                fingerprint: "undecodable".into(),
                expected: None,
            },
            Action::CreateChord {
                chord: Box::new(crate::chord::NewChord {
                    name: Some("g".into()),
                    jobs: vec!["a".into()],
                    enqueue: vec![],
                    callback: NewJob::new("q", "f"),
                    on_failure: crate::chord::Policy::Fail,
                }),
            },
            Action::RequeueSearch {
                query: "status:failed boom".into(),
                expected: Some(2),
            },
            Action::DeleteSearch {
                query: "\"a phrase\"".into(),
                expected: None,
            },
            Action::CancelSearch {
                query: "queue:q".into(),
                expected: Some(0),
            },
            Action::RunCron {
                name: "nightly-report".into(),
            },
        ]
    }

    #[test]
    fn one_name_each_and_all_listed() {
        let names: Vec<&str> = every_action().iter().map(Action::name).collect();
        assert_eq!(names, NAMES);
        for a in every_action() {
            assert!(a.validate().is_ok(), "{a:?}");
        }
    }

    #[test]
    fn old_audit_names_map_to_canonical_ones() {
        for old in ["enqueue_now", "requeue_failed", "requeue_all", "kill_horse"] {
            assert!(NAMES.contains(&crate::audit::canonical_name(old)), "{old}");
        }
        assert_eq!(crate::audit::canonical_name("scale"), "scale");
        assert_eq!(crate::audit::canonical_name("unreadable"), "unreadable");
    }

    #[test]
    fn limits_apply_to_every_way_in() {
        let bad = [
            Action::Requeue { ids: vec![] },
            Action::Stop { id: "a b".into() },
            Action::Empty {
                queue: "".into(),
                expected: None,
            },
            Action::Scale {
                worker: "w".into(),
                slots: 0,
            },
            Action::Shutdown {
                worker: "x".repeat(513),
            },
            Action::Suspend {
                secs: Some(limits::MAX_SUSPEND_SECS + 1),
            },
            Action::RequeueGroup {
                fingerprint: "../x".into(),
                expected: None,
            },
            Action::DeleteGroup {
                fingerprint: "0123456789ABCDEF".into(),
                expected: None,
            },
            Action::RequeueSearch {
                query: "".into(),
                expected: None,
            },
            Action::CancelSearch {
                query: "\"open".into(),
                expected: None,
            },
            Action::RunCron {
                name: "a\nb".into(),
            },
        ];
        for a in bad {
            assert_eq!(
                a.validate().unwrap_err().kind(),
                crate::ErrorKind::Invalid,
                "{a:?}"
            );
        }
    }

    #[test]
    fn targets_are_bounded() {
        let ids: Vec<String> = (0..8).map(|i| format!("j{i}")).collect();
        assert_eq!(ids_target(&ids), "j0,j1,j2,j3,j4 (+3 more)");
    }
}
