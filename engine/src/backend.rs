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
    AuditEntry, DeferredJob, FailureGroup, FailureGroups, FunctionStats, JobDetail, JobList,
    JobSummary, Page, SearchPage, Series, Snapshot, StatsMetric, StatsRange, WorkerInfo,
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

    /// One history series for `queue` (`None`: every queue) over `range`, ending now.
    fn stats_series<'a>(
        &'a self,
        metric: StatsMetric,
        queue: Option<&'a str>,
        range: StatsRange,
    ) -> BoxFuture<'a, Result<Series>>;

    /// Per-function run counts and durations over `range`, ending now, most runs first.
    fn stats_functions(&self, range: StatsRange) -> BoxFuture<'_, Result<Vec<FunctionStats>>>;

    /// Takes the history sample of the current `interval_s` slot unless another console did
    /// (the console's background task).
    fn stats_sample(&self, interval_s: u64) -> BoxFuture<'_, Result<crate::stats::SampleOutcome>>;

    /// Running totals of `queues` for `/metrics` (finished, failed, per-function durations).
    fn stats_totals<'a>(
        &'a self,
        queues: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<crate::stats::QueueTotals>>>;
    /// One page of search results for `query`, continuing from `cursor` (see `crate::search`):
    /// bounded per call, never a walk of the whole keyspace at once.
    fn search<'a>(
        &'a self,
        query: &'a str,
        cursor: Option<&'a str>,
        limit: u64,
    ) -> BoxFuture<'a, Result<SearchPage>>;

    /// How many jobs a search bulk action would affect now (a dry run; the search runs to its
    /// end under the bulk cap).
    fn search_count<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<u64>>;
    /// One registry across `queues` (`None`: every queue), merged in one order: soonest first
    /// for scheduled, newest first otherwise (`registry::across`). A backend without
    /// cross-queue registries answers `Invalid`.
    fn across<'a>(
        &'a self,
        list: JobList,
        queues: Option<&'a [String]>,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Page<JobSummary>>> {
        let _ = (list, queues, offset, limit);
        Box::pin(async { Err(crate::Error::Invalid("no cross-queue lists here".into())) })
    }

    /// A page of deferred jobs with what each waits on (bounded per job). By default: nothing.
    fn with_dependencies(
        &self,
        page: Page<JobSummary>,
    ) -> BoxFuture<'_, Result<Page<DeferredJob>>> {
        Box::pin(async move {
            Ok(Page {
                items: page
                    .items
                    .into_iter()
                    .map(|job| DeferredJob {
                        job,
                        depends_on: Vec::new(),
                        depends_on_total: 0,
                    })
                    .collect(),
                total: page.total,
                offset: page.offset,
                limit: page.limit,
            })
        })
    }

    /// Concurrency and rate limits with their current use (`/limits`); none by default.
    fn limits(&self) -> BoxFuture<'_, Result<Vec<crate::throttle::LimitUse>>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// One chord (RQ group with a callback) and its progress (`/groups/{name}`).
    fn chord<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<crate::chord::ChordView>>> {
        let _ = name;
        Box::pin(async { Ok(None) })
    }

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

    fn stats_series<'a>(
        &'a self,
        metric: StatsMetric,
        queue: Option<&'a str>,
        range: StatsRange,
    ) -> BoxFuture<'a, Result<Series>> {
        Box::pin(crate::stats::series(
            &self.store,
            metric,
            queue,
            range,
            crate::time::now() as i64,
        ))
    }

    fn stats_functions(&self, range: StatsRange) -> BoxFuture<'_, Result<Vec<FunctionStats>>> {
        Box::pin(crate::stats::functions(
            &self.store,
            range,
            crate::time::now() as i64,
        ))
    }

    fn stats_sample(&self, interval_s: u64) -> BoxFuture<'_, Result<crate::stats::SampleOutcome>> {
        Box::pin(crate::stats::sample(
            &self.store,
            crate::time::now() as i64,
            interval_s,
        ))
    }

    fn stats_totals<'a>(
        &'a self,
        queues: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<crate::stats::QueueTotals>>> {
        Box::pin(crate::stats::totals(&self.store, queues))
    }

    fn search<'a>(
        &'a self,
        query: &'a str,
        cursor: Option<&'a str>,
        limit: u64,
    ) -> BoxFuture<'a, Result<SearchPage>> {
        Box::pin(crate::search::search(&self.store, query, cursor, limit))
    }

    fn search_count<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(crate::actions::search::live_count(&self.store, query))
    }

    fn across<'a>(
        &'a self,
        list: JobList,
        queues: Option<&'a [String]>,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<Page<JobSummary>>> {
        Box::pin(async move {
            match queues {
                Some(q) => crate::registry::across(&self.store, list, q, offset, limit).await,
                None => crate::registry::across_all(&self.store, list, offset, limit).await,
            }
        })
    }

    fn with_dependencies(
        &self,
        page: Page<JobSummary>,
    ) -> BoxFuture<'_, Result<Page<DeferredJob>>> {
        Box::pin(crate::registry::deferred_with_deps(&self.store, page))
    }

    fn limits(&self) -> BoxFuture<'_, Result<Vec<crate::throttle::LimitUse>>> {
        Box::pin(crate::throttle::list(&self.store))
    }

    fn chord<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<crate::chord::ChordView>>> {
        Box::pin(crate::chord::get(&self.store, name))
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
