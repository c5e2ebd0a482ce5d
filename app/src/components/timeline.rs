//! The job page's timeline (`engine::timeline`): enqueued → each start (worker, duration) →
//! each outcome → the state now, one line each, oldest first. Exception lines are job data and
//! render as escaped text.

use engine::model::{TimelineEvent, TimelineKind};
use leptos::prelude::*;

use crate::format;

/// (label, class / test-id slug) of a step.
fn label(kind: TimelineKind) -> (&'static str, &'static str) {
    match kind {
        TimelineKind::Created => ("created", "created"),
        TimelineKind::Enqueued => ("enqueued", "enqueued"),
        TimelineKind::Started => ("started", "started"),
        TimelineKind::Succeeded => ("succeeded", "succeeded"),
        TimelineKind::Failed => ("failed", "failed"),
        TimelineKind::Stopped => ("stopped", "stopped"),
        TimelineKind::Retried => ("retried", "retried"),
        TimelineKind::MaxRetriesExceeded => ("max retries exceeded", "max-retries-exceeded"),
        TimelineKind::Now => ("now", "now"),
    }
}

#[component]
pub fn Timeline(events: Vec<TimelineEvent>, now: f64) -> impl IntoView {
    view! {
        <h2>"Timeline"</h2>
        <ol class="timeline" data-testid="timeline">
            {events.into_iter().map(|e| {
                let (name, slug) = label(e.kind);
                view! {
                    <li class=format!("tl tl-{slug}") data-testid=format!("timeline-{slug}")>
                        <span class="tl-kind">{name}</span>
                        " "
                        <span class="tl-at" title=format::timestamp(e.at)>
                            {e.at.map(|_| format::ago(e.at, now))}
                        </span>
                        {e.worker.map(|w| view! {
                            " on " <a href=crate::url::href(&format::worker_href(&w))>{w.clone()}</a>
                        })}
                        {e.duration.map(|d| view! { " for " <span class="tl-duration">{format::duration(d)}</span> })}
                        {e.detail.map(|d| view! { " " <code class="tl-detail">{d}</code> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}
