//! The live strip of the list pages (queue, failed, workers, job): an island that follows the
//! live feed and shows the counts that page is about, and, once they differ from what the page
//! was rendered with, how many rows are new and a reload link. Without JavaScript the strip
//! shows the counts as of the page load and reloading is the update. A job page re-reads the
//! job's status (one small server fn) only when its queue's counts move.

use engine::model::{JobList, Snapshot};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::format;
use crate::live::LiveState;

/// What a page watches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Watch {
    /// One queue, shown on its `list` tab.
    Queue {
        name: String,
        list: String,
    },
    /// Failed jobs across queues.
    Failed,
    Workers,
    /// One job (in `queue`), last seen with `status`.
    Job {
        id: String,
        queue: String,
        status: String,
    },
}

impl Watch {
    /// `(label, count)` for this page from a snapshot; the first one is the page's own rows.
    pub fn counts(&self, s: &Snapshot) -> Vec<(String, u64)> {
        let queue = |name: &str, first: Option<JobList>| {
            let q = s.queues.iter().find(|q| q.name == name);
            let mut lists: Vec<JobList> = first.into_iter().collect();
            lists.extend(JobList::ALL.into_iter().filter(|l| Some(*l) != first));
            lists
                .into_iter()
                .map(|l| (l.as_str().to_string(), q.map_or(0, |q| q.get(l))))
                .collect()
        };
        match self {
            Watch::Queue { name, list } => queue(name, JobList::parse(list)),
            Watch::Job { queue: q, .. } => queue(q, None),
            Watch::Failed => vec![("failed".into(), s.totals.failed)],
            Watch::Workers => vec![
                ("workers".into(), s.workers.len() as u64),
                ("busy".into(), s.totals.workers_busy),
                ("idle".into(), s.totals.workers_idle),
                ("stale".into(), s.totals.workers_stale),
            ],
        }
    }
}

/// A job's status now (`None`: the job is gone); the job page's strip asks when its queue moved.
#[server(prefix = "/ui", endpoint = "job_status", input = leptos::server_fn::codec::GetUrl)]
pub async fn job_status(id: String) -> Result<Option<String>, ServerFnError> {
    let console = use_context::<std::sync::Arc<crate::state::Console>>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: no Console in context"))?;
    engine::limits::validate_job_id(&id).map_err(|e| ServerFnError::new(e.to_string()))?;
    let job = console
        .backend
        .job(&id)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(job.map(|j| {
        j.summary
            .status
            .map_or_else(|| "?".to_string(), |s| s.as_str().to_string())
    }))
}

fn counts_text(counts: &[(String, u64)]) -> String {
    counts
        .iter()
        .map(|(label, n)| format!("{} {label}", format::count(*n)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "3 new" / "2 fewer" for the page's own rows, or "changed" for the other counts.
fn change_text(before: &[(String, u64)], now: &[(String, u64)]) -> Option<String> {
    if before == now {
        return None;
    }
    let first = |c: &[(String, u64)]| c.first().map_or(0, |(_, n)| *n);
    let (b, n) = (first(before), first(now));
    Some(match n.cmp(&b) {
        std::cmp::Ordering::Greater => format!("{} new", format::count(n - b)),
        std::cmp::Ordering::Less => format!("{} fewer", format::count(b - n)),
        std::cmp::Ordering::Equal => "Counts changed".to_string(),
    })
}

/// `here` is the page's own URL (the reload link). `data-hydrated` as on the overview.
#[island]
pub fn LiveWatch(watch: Watch, initial: Vec<(String, u64)>, here: String) -> impl IntoView {
    let counts = RwSignal::new(initial.clone());
    let live = RwSignal::new(true);
    let hydrated = RwSignal::new(false);
    let down = RwSignal::new(false);
    let first_status = match &watch {
        Watch::Job { status, .. } => Some(status.clone()),
        _ => None,
    };
    let status = RwSignal::new(first_status.clone());
    let watch = StoredValue::new(watch);

    Effect::new(move |_| {
        hydrated.set(true);
        crate::feed::on("snapshot", move |json| {
            down.set(false);
            if !live.get_untracked() {
                return;
            }
            let Ok(LiveState {
                snapshot: Some(snap),
                ..
            }) = serde_json::from_str::<LiveState>(&json)
            else {
                return;
            };
            let next = watch.with_value(|w| w.counts(&snap));
            if counts.with_untracked(|c| *c == next) {
                return;
            }
            counts.set(next);
            if let Watch::Job { id, .. } = watch.get_value() {
                leptos::task::spawn_local(async move {
                    if let Ok(s) = job_status(id).await {
                        status.set(Some(s.unwrap_or_else(|| "deleted".into())));
                    }
                });
            }
        });
        crate::feed::on("error", move |_| down.set(true));
    });

    let before = StoredValue::new(initial);
    let change = move || {
        let counts_changed = counts.with(|c| before.with_value(|b| change_text(b, c)));
        let status_changed = status.get() != first_status;
        match (status_changed, counts_changed) {
            (true, _) => Some(format!(
                "Status is now {}",
                status.get().unwrap_or_default()
            )),
            (false, c) => c,
        }
    };
    let reload = here.clone();
    view! {
        <div
            class="live-bar live-watch"
            data-testid="live-watch"
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
        >
            <span class="live-dot" class:paused=move || !live.get() class:down=move || down.get()></span>
            <span class="live-status" data-testid="live-counts">{move || counts.with(|c| counts_text(c))}</span>
            {move || change().map(|text| view! {
                <a class="btn small" href=reload.clone() data-testid="live-reload">
                    {text} " — reload"
                </a>
            })}
            <button
                type="button"
                id="live-toggle"
                class="btn small"
                data-live=move || if live.get() { "on" } else { "off" }
                on:click=move |_| live.update(|on| *on = !*on)
            >
                {move || if live.get() { "Pause live updates" } else { "Resume live updates" }}
            </button>
        </div>
    }
}
