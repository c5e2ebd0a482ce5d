//! The backend seam: what the console needs from a queue system, and nothing else. Pages, the
//! JSON API, `/metrics` (and the coming failure groups, history and search) read and act through
//! a [`Backend`], so a second system (Celery over Redis) plugs in beside RQ by implementing it,
//! in its own module or crate, without touching RQ's files or the console's.
//!
//! [`Rq`] is the implementation over RQ 2.x's schema and stays the default. Its methods are the
//! engine's existing functions, so the seam costs one virtual call and one boxed future per read.

use futures::future::BoxFuture;

use crate::actions::{Action, Outcome};
use crate::model::{
    AuditEntry, FailureGroup, FailureGroups, JobDetail, JobList, JobSummary, Page, Snapshot,
    WorkerInfo,
};
use crate::{Result, Store};

/// One queue system behind the console. Every read is read-only (it never changes queue
/// state) and bounded (a page, a count, a snapshot: never a walk of a keyspace).
pub trait Backend: Send + Sync {
    /// Which system this is, e.g. `rq` (labels, page headings).
    fn system(&self) -> &'static str;

    /// Counts per queue, workers and totals: the one read behind the overview, live updates
    /// and `/metrics` (callers share it through a cache).
    fn snapshot(&self) -> BoxFuture<'_, Result<Snapshot>>;

    /// Whether `queue` is a known queue.
    fn queue_exists<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// One page of one list of a queue (queued, started, ..., canceled).
    fn jobs<'a>(
        &'a self,
        queue: &'a str,
        list: JobList,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Page<JobSummary>>>;

    /// Failed jobs across `queues`, newest first (`None`: every queue).
    fn failed<'a>(
        &'a self,
        queues: Option<&'a [String]>,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Page<JobSummary>>>;

    /// One job, or `None` if it does not exist.
    fn job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobDetail>>>;

    /// One worker, or `None`.
    fn worker<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<WorkerInfo>>>;

    /// The audit log, newest first.
    fn audit(&self, offset: u64, limit: u64) -> BoxFuture<'_, Result<Page<AuditEntry>>>;

    /// Failure groups, largest first, with the index's `as_of`. Reads only Taskmill's index
    /// (advanced here in a small budget when no background driver keeps it fresh).
    fn failure_groups(&self) -> BoxFuture<'_, Result<FailureGroups>>;

    /// One failure group, or `None`.
    fn failure_group<'a>(
        &'a self,
        fingerprint: &'a str,
    ) -> BoxFuture<'a, Result<Option<FailureGroup>>>;

    /// One page of a group's failed jobs, newest first.
    fn failure_group_jobs<'a>(
        &'a self,
        fingerprint: &'a str,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Page<JobSummary>>>;

    /// How many jobs a group action would affect now (a dry run; not found for no such group).
    fn failure_group_live<'a>(&'a self, fingerprint: &'a str) -> BoxFuture<'a, Result<u64>>;

    /// Advances the failure-group index for about `budget` (the console's background task);
    /// `None` when another driver holds it.
    fn index_failures(
        &self,
        budget: std::time::Duration,
    ) -> BoxFuture<'_, Result<Option<crate::groups::index::Progress>>>;

    /// Runs an operator action for `who` (validated, atomic, audited).
    fn perform<'a>(&'a self, action: Action, who: &'a str) -> BoxFuture<'a, Result<Outcome>>;

    /// Cron schedulers and their jobs; a system without cron answers an empty overview.
    fn cron(&self) -> BoxFuture<'_, Result<crate::cron::CronOverview>> {
        Box::pin(async { Ok(crate::cron::CronOverview::default()) })
    }
}

/// Python RQ 2.x (and Taskmill's own workers, which write the same schema).
#[derive(Clone)]
pub struct Rq {
    store: Store,
}

impl Rq {
    pub fn new(store: Store) -> Rq {
        Rq { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl Backend for Rq {
    fn system(&self) -> &'static str {
        "rq"
    }

    fn snapshot(&self) -> BoxFuture<'_, Result<Snapshot>> {
        Box::pin(crate::snapshot::take(&self.store))
    }

    fn queue_exists<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(crate::queue::exists(&self.store, queue))
    }

    fn jobs<'a>(
        &'a self,
        queue: &'a str,
        list: JobList,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Page<JobSummary>>> {
        Box::pin(crate::registry::page(
            &self.store,
            queue,
            list,
            offset,
            limit,
        ))
    }

    fn failed<'a>(
        &'a self,
        queues: Option<&'a [String]>,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Page<JobSummary>>> {
        Box::pin(async move {
            match queues {
                Some(q) => crate::registry::failed_in(&self.store, q, offset, limit).await,
                None => crate::registry::failed_all(&self.store, offset, limit).await,
            }
        })
    }

    fn job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobDetail>>> {
        Box::pin(crate::job::fetch(&self.store, id))
    }

    fn worker<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<WorkerInfo>>> {
        Box::pin(crate::workers::get(&self.store, name))
    }

    fn audit(&self, offset: u64, limit: u64) -> BoxFuture<'_, Result<Page<AuditEntry>>> {
        Box::pin(crate::audit::page(&self.store, offset, limit))
    }

    fn failure_groups(&self) -> BoxFuture<'_, Result<FailureGroups>> {
        Box::pin(async move {
            crate::groups::index::refresh_if_stale(&self.store, STALE_AFTER, READ_BUDGET).await;
            crate::groups::read::groups(&self.store).await
        })
    }

    fn failure_group<'a>(
        &'a self,
        fingerprint: &'a str,
    ) -> BoxFuture<'a, Result<Option<FailureGroup>>> {
        Box::pin(async move {
            crate::limits::validate_fingerprint(fingerprint)?;
            crate::groups::index::refresh_if_stale(&self.store, STALE_AFTER, READ_BUDGET).await;
            crate::groups::read::group_info(&self.store, fingerprint).await
        })
    }

    fn failure_group_jobs<'a>(
        &'a self,
        fingerprint: &'a str,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Page<JobSummary>>> {
        Box::pin(async move {
            crate::limits::validate_fingerprint(fingerprint)?;
            crate::groups::read::group_page(&self.store, fingerprint, offset, limit).await
        })
    }

    fn failure_group_live<'a>(&'a self, fingerprint: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            crate::limits::validate_fingerprint(fingerprint)?;
            crate::actions::group::live_count(&self.store, fingerprint).await
        })
    }

    fn index_failures(
        &self,
        budget: std::time::Duration,
    ) -> BoxFuture<'_, Result<Option<crate::groups::index::Progress>>> {
        Box::pin(crate::groups::index::advance(&self.store, budget))
    }

    fn perform<'a>(&'a self, action: Action, who: &'a str) -> BoxFuture<'a, Result<Outcome>> {
        Box::pin(crate::actions::perform(&self.store, action, who))
    }

    fn cron(&self) -> BoxFuture<'_, Result<crate::cron::CronOverview>> {
        Box::pin(crate::cron::state::overview(
            &self.store,
            crate::time::now(),
        ))
    }
}

/// A groups read finding the index older than this (seconds: no background driver running)
/// advances it itself, within `READ_BUDGET`.
pub const STALE_AFTER: f64 = 10.0;
pub const READ_BUDGET: std::time::Duration = std::time::Duration::from_millis(15);
