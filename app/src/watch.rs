//! The live strip of the list pages (queue, failed, workers, job): an island that follows the
//! live feed, shows the counts that page is about and holds the page's pause switch
//! (`feed::live_switch`, which the page's live rows obey too). Where the rows below are live
//! (`rows_live`), that is all; elsewhere, once the counts differ from what the page was
//! rendered with, it says how many rows are new, with a reload link. Without JavaScript the
//! strip shows the counts as of the page load and reloading is the update. A job page's strip
//! re-reads the job (`rows::job`, one small server fn) only when its queue's counts move.

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

/// `here` is the page's own URL (the reload link); `rows_live`: the page's rows follow the
/// feed themselves, so no reload link. `data-hydrated` as on the overview.
#[island]
pub fn LiveWatch(
    watch: Watch,
    initial: Vec<(String, u64)>,
    here: String,
    rows_live: bool,
) -> impl IntoView {
    let counts = RwSignal::new(initial.clone());
    let live = crate::feed::live_switch();
    let hydrated = RwSignal::new(false);
    let down = RwSignal::new(false);
    let first_status = match &watch {
        Watch::Job { status, .. } => Some(status.clone()),
        _ => None,
    };
    let head = crate::rows::job::shared();
    let watch = StoredValue::new(watch);
    // Counts that moved while paused: caught up on resume.
    let missed = StoredValue::new(None::<Vec<(String, u64)>>);

    // Shows new counts; a job page re-reads its job when they moved.
    let show = move |next: Vec<(String, u64)>| {
        if counts.with_untracked(|c| *c == next) {
            return;
        }
        counts.set(next);
        if let Watch::Job { id, .. } = watch.get_value() {
            crate::rows::job::refresh(id);
        }
    };
    let live_feed = live.clone();
    Effect::new(move |_| {
        hydrated.set(true);
        let live = live_feed.clone();
        crate::feed::on("snapshot", move |json| {
            down.set(false);
            let Ok(LiveState {
                snapshot: Some(snap),
                ..
            }) = serde_json::from_str::<LiveState>(&json)
            else {
                return;
            };
            let next = watch.with_value(|w| w.counts(&snap));
            if !live.get_untracked() {
                missed.set_value(Some(next));
                return;
            }
            show(next);
        });
        crate::feed::on("error", move |_| down.set(true));
    });
    let live_resume = live.clone();
    Effect::new(move |_| {
        if live_resume.get() {
            if let Some(next) = missed.try_update_value(Option::take).flatten() {
                show(next);
            }
        }
    });

    let before = StoredValue::new(initial);
    let change = move || {
        let counts_changed = counts.with(|c| before.with_value(|b| change_text(b, c)));
        let status = head.get().map(|h| h.status_text());
        let status_changed = status.is_some() && status != first_status;
        match (status_changed, counts_changed) {
            // The badge and facts are live; the rest of the job page (results, timeline) not.
            (true, _) => Some(format!("Status is now {}", status.unwrap_or_default())),
            (false, _) if rows_live => None,
            (false, c) => c,
        }
    };
    let reload = here.clone();
    let (live_dot, live_attr, live_label) = (live.clone(), live.clone(), live.clone());
    view! {
        <div
            class="live-bar live-watch"
            data-testid="live-watch"
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
        >
            <span class="live-dot" class:paused=move || !live_dot.get() class:down=move || down.get()></span>
            <span class="live-status" data-testid="live-counts">{move || counts.with(|c| counts_text(c))}</span>
            {move || change().map(|text| view! {
                <a class="btn small" href=crate::url::href(&reload) data-testid="live-reload">
                    {text} " — reload"
                </a>
            })}
            <button
                type="button"
                id="live-toggle"
                class="btn small"
                data-live=move || if live_attr.get() { "on" } else { "off" }
                on:click=move |_| live.update(|on| *on = !*on)
            >
                {move || if live_label.get() { "Pause live updates" } else { "Resume live updates" }}
            </button>
        </div>
    }
}
