//! Live rows of the list pages. The queue page's current tab and the failed page render their
//! job table and pager inside the `LiveJobs` island; the workers page its pools inside
//! `workers::LiveWorkers`; the job page its status and key facts inside `job`'s islands.
//! Without JavaScript these are the complete server-rendered rows and reloading is the update.
//!
//! Once hydrated, `LiveJobs` watches the counts its rows depend on in every feed frame (the
//! queue's lists, or the failed count of each queue) and re-reads its one page of rows through
//! `GET /ui/rows` only when they moved: an idle page costs nothing, a busy one at most one read
//! per feed frame. The server answers those reads from `Cache`, so N browsers showing the same
//! page after a change cost one Redis read of that page, not N. The page's pause switch
//! (`feed::live_switch`) stops the re-reads; resuming catches up.
//!
//! - `workers` — the workers page's pools and worker rows (from the feed's snapshot, no read).
//! - `job`     — the job page's status badge and facts (one small read when its queue moved).
//! - `job_actions` — the job page's action buttons, following the same re-read head.

pub mod job;
pub mod job_actions;
pub mod workers;

use engine::model::{JobList, JobSummary, Snapshot};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::forms::RowAction;
use crate::components::pager::{PageReq, Pager};
use crate::components::table::{Columns, JobTable};
use crate::live::LiveState;

/// Which rows a `LiveJobs` shows: one page of one queue's `list` tab, or (no `queue`) one page
/// of the failed jobs across queues.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RowsReq {
    pub queue: Option<String>,
    pub list: String,
    pub page: u64,
    pub size: u64,
}

/// One page of rows, as rendered and as `GET /ui/rows` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRows {
    pub jobs: Vec<JobSummary>,
    /// Rows in the whole list (the pager's "of N").
    pub total: u64,
    /// Server time of the read (unix seconds): the "… ago" cells count from it.
    pub now: f64,
}

impl RowsReq {
    fn list(&self) -> JobList {
        JobList::parse(&self.list).unwrap_or(JobList::Failed)
    }

    /// The table's optional columns for these rows.
    pub fn columns(&self) -> Columns {
        match self.queue {
            None => Columns {
                origin: true,
                exception: true,
                worker: true,
                score: None,
            },
            Some(_) => {
                let list = self.list();
                Columns {
                    worker: list == JobList::Started,
                    exception: list == JobList::Failed,
                    score: score_label(list),
                    origin: false,
                }
            }
        }
    }

    /// The counts these rows depend on, from a snapshot: all lists of the queue (a job moving
    /// between two lists changes both), or each queue's failed count. Ages are left out: they
    /// move every second without any row changing.
    pub fn key(&self, s: &Snapshot) -> Vec<(String, u64)> {
        match &self.queue {
            Some(name) => {
                let q = s.queues.iter().find(|q| &q.name == name);
                JobList::ALL
                    .into_iter()
                    .map(|l| (l.as_str().to_string(), q.map_or(0, |q| q.get(l))))
                    .collect()
            }
            None => s
                .queues
                .iter()
                .filter(|q| q.failed > 0)
                .map(|q| (q.name.clone(), q.failed))
                .collect(),
        }
    }
}

/// The registry score column of a queue tab, if it has one.
pub fn score_label(list: JobList) -> Option<&'static str> {
    match list {
        JobList::Scheduled => Some("Scheduled for"),
        JobList::Started => Some("Lease until"),
        _ => None,
    }
}

/// One page of rows now (GET: reads only). Invalid parameters answer 400.
#[server(prefix = "/ui", endpoint = "rows", input = leptos::server_fn::codec::GetUrl)]
pub async fn live_rows(
    queue: Option<String>,
    list: String,
    page: u64,
    size: u64,
) -> Result<JobRows, ServerFnError> {
    let console = use_context::<std::sync::Arc<crate::state::Console>>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: no Console in context"))?;
    let req = RowsReq {
        queue,
        list,
        page,
        size,
    };
    if let Err(e) = cache::validate(&req) {
        crate::error::set_status(axum::http::StatusCode::BAD_REQUEST);
        return Err(ServerFnError::new(e));
    }
    let rows = console
        .events
        .rows
        .get(&console, &req)
        .await
        .map_err(|e| ServerFnError::new(crate::components::status::redis_error_text(&e)))?;
    Ok((*rows).clone())
}

#[cfg(feature = "ssr")]
pub use cache::{read, Cache};

#[cfg(feature = "ssr")]
mod cache {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use engine::model::{JobList, Snapshot};

    use super::{JobRows, RowsReq};
    use crate::components::pager::SIZES;
    use crate::state::Console;

    /// How long a read is shared, at most (one feed tick).
    const FRESH: Duration = crate::events::TICK;
    /// Bound on cached pages; the cache is emptied beyond it.
    const MAX_ENTRIES: usize = 256;

    pub fn validate(req: &RowsReq) -> Result<(), String> {
        if !(1..=10_000_000).contains(&req.page) || !SIZES.contains(&req.size) {
            return Err("Invalid page or size: size is 10, 25, 50 or 100.".into());
        }
        match &req.queue {
            Some(q) => {
                engine::limits::validate_queue_name(q).map_err(|e| e.to_string())?;
                JobList::parse(&req.list)
                    .map(|_| ())
                    .ok_or_else(|| format!("Unknown list {:?}.", req.list))
            }
            None if req.list == "failed" => Ok(()),
            None => Err("Without a queue the rows are the failed list.".into()),
        }
    }

    /// Reads one page of rows (uncached), the failed ones through `snap`'s failing queues.
    pub async fn read(
        console: &Arc<Console>,
        snap: &Snapshot,
        req: &RowsReq,
    ) -> Result<JobRows, engine::Error> {
        let offset = (req.page - 1) * req.size;
        let page = match &req.queue {
            Some(q) => {
                let list = JobList::parse(&req.list).unwrap_or(JobList::Queued);
                console.backend.jobs(q, list, offset, req.size).await?
            }
            None => {
                // Only queues with failures, so the usual single failing queue is paged directly.
                let names: Vec<String> = snap
                    .queues
                    .iter()
                    .filter(|q| q.failed > 0)
                    .map(|q| q.name.clone())
                    .collect();
                console
                    .backend
                    .failed(Some(&names), offset, req.size)
                    .await?
            }
        };
        Ok(JobRows {
            jobs: page.items,
            total: page.total,
            now: engine::time::now(),
        })
    }

    /// Pages of rows shared by the browsers asking for them after the same feed frame. An
    /// entry serves a request only if its read started after the snapshot of the feed's latest
    /// frame was taken (so it shows at least the change that frame announced) and is younger
    /// than `FRESH`. Reads are one at a time (single flight).
    /// When its read started (unix seconds), when it ended, the rows.
    type Entry = (f64, Instant, Arc<JobRows>);

    #[derive(Default)]
    pub struct Cache {
        entries: Mutex<HashMap<RowsReq, Entry>>,
        refresh: tokio::sync::Mutex<()>,
        reads: AtomicU64,
    }

    impl Cache {
        /// Pages read from Redis so far (the N-browsers-one-read test).
        pub fn reads(&self) -> u64 {
            self.reads.load(Ordering::Relaxed)
        }

        fn fresh(&self, req: &RowsReq, since: f64) -> Option<Arc<JobRows>> {
            let e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            e.get(req)
                .filter(|(started, at, _)| *started >= since && at.elapsed() < FRESH)
                .map(|(_, _, rows)| rows.clone())
        }

        /// A page's rows for a full page render: a fresh shared read if there is one, else
        /// read now (not single flight: page loads of different pages must not queue behind
        /// one another) and shared from then on. So a page hammered by many clients reads
        /// Redis about once per `FRESH`, like the snapshot its counts come from.
        pub async fn page(
            &self,
            console: &Arc<Console>,
            snap: &Snapshot,
            req: &RowsReq,
        ) -> Result<Arc<JobRows>, engine::Error> {
            let since = console.events.latest_taken_at();
            if let Some(rows) = self.fresh(req, since) {
                return Ok(rows);
            }
            let started = engine::time::now();
            self.reads.fetch_add(1, Ordering::Relaxed);
            let rows = Arc::new(read(console, snap, req).await?);
            self.store(req, started, rows.clone());
            Ok(rows)
        }

        fn store(&self, req: &RowsReq, started: f64, rows: Arc<JobRows>) {
            let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if e.len() >= MAX_ENTRIES {
                e.clear();
            }
            e.insert(req.clone(), (started, Instant::now(), rows));
        }

        /// Forgets every shared page (after an action: the next read shows its effect).
        pub fn clear(&self) {
            self.entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }

        pub async fn get(
            &self,
            console: &Arc<Console>,
            req: &RowsReq,
        ) -> Result<Arc<JobRows>, engine::Error> {
            let since = console.events.latest_taken_at();
            if let Some(rows) = self.fresh(req, since) {
                return Ok(rows);
            }
            let _guard = self.refresh.lock().await;
            if let Some(rows) = self.fresh(req, since) {
                return Ok(rows);
            }
            let started = engine::time::now();
            self.reads.fetch_add(1, Ordering::Relaxed);
            let snap = console.snapshot().await?;
            let rows = Arc::new(read(console, &snap, req).await?);
            self.store(req, started, rows.clone());
            Ok(rows)
        }
    }
}

/// Whether the person has ticked rows for a selection action: re-rendering the table would
/// drop their ticks, so updates wait until no box is checked.
#[cfg(feature = "hydrate")]
pub(crate) fn selection_held() -> bool {
    document()
        .query_selector("input[form=selection]:checked")
        .ok()
        .flatten()
        .is_some()
}

#[cfg(not(feature = "hydrate"))]
pub(crate) fn selection_held() -> bool {
    false
}

/// A page's job table and pager. `key` is `req.key` of the snapshot the rows were read with;
/// `base` the pager's base URL; `actions` the row actions (empty on a read-only console).
/// `data-rows-seq` counts the re-reads shown (0 as rendered by the server).
#[island]
pub fn LiveJobs(
    req: RowsReq,
    rows: JobRows,
    key: Vec<(String, u64)>,
    actions: Vec<RowAction>,
    base: String,
) -> impl IntoView {
    let data = RwSignal::new(rows);
    let shown = RwSignal::new(0u64);
    let hydrated = RwSignal::new(false);
    // Counts moved since the rows on screen were read; a frame arrived (retry a held update).
    let dirty = RwSignal::new(false);
    let frames = RwSignal::new(0u64);
    let in_flight = RwSignal::new(false);
    let live = crate::feed::live_switch();
    let seen = StoredValue::new(key);
    let columns = req.columns();
    let page_req = PageReq {
        page: req.page,
        size: req.size,
    };
    let req = StoredValue::new(req);

    Effect::new(move |_| {
        hydrated.set(true);
        crate::feed::on("snapshot", move |json| {
            let Ok(LiveState {
                snapshot: Some(snap),
                ..
            }) = serde_json::from_str::<LiveState>(&json)
            else {
                return;
            };
            let next = req.with_value(|r| r.key(&snap));
            if seen.with_value(|k| *k != next) {
                seen.set_value(next);
                dirty.set(true);
            }
            frames.update(|n| *n += 1);
        });
    });
    Effect::new(move |_| {
        frames.track();
        if !(dirty.get() && live.get() && !in_flight.get()) || selection_held() {
            return;
        }
        dirty.set(false);
        in_flight.set(true);
        let r = req.get_value();
        leptos::task::spawn_local(async move {
            // On an error the rows stay; the next change tries again.
            if let Ok(rows) = live_rows(r.queue, r.list, r.page, r.size).await {
                data.set(rows);
                shown.update(|n| *n += 1);
            }
            in_flight.set(false);
        });
    });

    view! {
        <div
            class="live-rows"
            data-testid="live-rows"
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
            data-rows-seq=move || shown.get().to_string()
        >
            {move || data.with(|r| view! {
                <JobTable jobs=r.jobs.clone() columns=columns actions=actions.clone() now=r.now/>
                <Pager base=base.clone() req=page_req total=r.total/>
            })}
        </div>
    }
}
