//! The live overview: an island that follows the live feed (`/api/v1/events`, see `feed`;
//! pausable) and re-renders the totals, the queue table and the worker summary. The server
//! renders it once with the same data, so the page is complete without JavaScript.

use engine::model::{QueueCounts, Snapshot};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::format;

/// One feed frame (`event: snapshot` data): the shared snapshot, or why there is none.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    pub snapshot: Option<Snapshot>,
    /// `Redis unreachable: ...` and the like; the feed retries every tick.
    pub error: Option<String>,
}

/// The live data (for scripts; the islands use the feed), read through the console's 1 s snapshot cache (GET, so no CSRF surface).
#[server(prefix = "/ui", endpoint = "live", input = leptos::server_fn::codec::GetUrl)]
pub async fn live_data() -> Result<LiveState, ServerFnError> {
    let console = use_context::<std::sync::Arc<crate::state::Console>>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: no Console in context"))?;
    Ok(load(&console).await)
}

/// Snapshot or an explicit unreachable state (never an error page).
#[cfg(feature = "ssr")]
pub async fn load(console: &std::sync::Arc<crate::state::Console>) -> LiveState {
    match console.snapshot().await {
        Ok(snap) => LiveState {
            snapshot: Some((*snap).clone()),
            error: None,
        },
        Err(e) => LiveState {
            snapshot: None,
            error: Some(crate::components::status::redis_error_text(&e)),
        },
    }
}

/// The overview's live part. `data-hydrated="true"` appears once the island runs in the
/// browser; `#live-toggle` pauses and resumes updates (`data-live="on|off"`).
#[island]
pub fn LiveOverview(initial: LiveState) -> impl IntoView {
    let data = RwSignal::new(initial);
    let live = RwSignal::new(true);
    let hydrated = RwSignal::new(false);
    // The newest frame, also while paused, so resuming shows it at once.
    let latest = StoredValue::new(None::<LiveState>);

    Effect::new(move |_| {
        hydrated.set(true);
        crate::feed::on("snapshot", move |json| {
            let Ok(next) = serde_json::from_str::<LiveState>(&json) else {
                return;
            };
            latest.set_value(Some(next.clone()));
            if live.get_untracked() {
                data.set(next);
            }
        });
        crate::feed::on("error", move |_| {
            if live.get_untracked() {
                data.update(|d| {
                    d.error
                        .get_or_insert_with(|| "Console server unreachable: reconnecting".into());
                });
            }
        });
    });

    let toggle = move |_| {
        live.update(|on| *on = !*on);
        if live.get_untracked() {
            if let Some(next) = latest.get_value() {
                data.set(next);
            }
        }
    };

    view! {
        <section
            class="live"
            data-testid="live-overview"
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
        >
            <div class="live-bar">
                <span
                    class="live-dot"
                    data-testid="live-indicator"
                    class:paused=move || !live.get()
                    class:down=move || data.with(|d| d.error.is_some())
                ></span>
                <span class="live-status">
                    {move || {
                        let paused = !live.get();
                        data.with(|d| status_text(d, paused))
                    }}
                </span>
                <button
                    type="button"
                    id="live-toggle"
                    class="btn small"
                    data-live=move || if live.get() { "on" } else { "off" }
                    on:click=toggle
                >
                    {move || if live.get() { "Pause live updates" } else { "Resume live updates" }}
                </button>
            </div>
            {move || data.with(|d| d.error.clone()).map(|e| view! {
                <div class="banner error" role="alert" data-testid="redis-unreachable">{e}</div>
            })}
            {move || data.with(|d| d.snapshot.clone()).map(|s| view! { <SnapshotView snap=s/> })}
        </section>
    }
}

fn status_text(d: &LiveState, paused: bool) -> String {
    let at = d
        .snapshot
        .as_ref()
        .map(|s| format::timestamp(Some(s.taken_at)))
        .unwrap_or_else(|| "—".into());
    match (paused, d.error.is_some()) {
        (true, _) => format!("Paused · data from {at}"),
        (false, true) => "Live · retrying every 2 s".to_string(),
        (false, false) => format!("Live · updated {at}"),
    }
}

#[component]
fn SnapshotView(snap: Snapshot) -> impl IntoView {
    let t = snap.totals.clone();
    let states = [
        ("queued", t.queued),
        ("started", t.started),
        ("failed", t.failed),
        ("deferred", t.deferred),
        ("scheduled", t.scheduled),
        ("finished", t.finished),
        ("canceled", t.canceled),
    ];
    let redis = snap.redis.clone();
    let queues = snap.queues.clone();
    let no_queues = queues.is_empty();
    view! {
        <div class="totals">
            {states.into_iter().map(|(name, n)| view! {
                <div class=format!("total state-{name}") data-testid=format!("total-{name}")>
                    <span class="total-n">{format::count(n)}</span>
                    <span class="total-label">{name}</span>
                </div>
            }).collect_view()}
        </div>
        <h2>"Queues"</h2>
        <table class="grid" data-testid="queue-table">
            <thead><tr>
                <th>"Queue"</th><th class="num">"Queued"</th><th class="num">"Started"</th>
                <th class="num">"Finished"</th><th class="num">"Failed"</th>
                <th class="num">"Deferred"</th><th class="num">"Scheduled"</th>
                <th class="num">"Canceled"</th><th class="num">"Oldest queued"</th>
            </tr></thead>
            <tbody>
                {queues.into_iter().map(|q| view! { <QueueRow q=q/> }).collect_view()}
            </tbody>
        </table>
        {no_queues.then(|| view! { <p class="empty">"No queues yet."</p> })}
        <div class="cols">
            <section>
                <h2>"Workers"</h2>
                <p data-testid="workers-summary">
                    <a href=crate::url::href("/workers")>
                        {format!(
                            "{} busy · {} idle · {} stale",
                            format::count(t.workers_busy),
                            format::count(t.workers_idle),
                            format::count(t.workers_stale)
                        )}
                    </a>
                </p>
            </section>
            <section>
                <h2>"Redis"</h2>
                <p data-testid="redis-info">
                    {format!(
                        "Redis {} · {} used · {} clients",
                        redis.version,
                        redis.used_memory_human,
                        format::count(redis.connected_clients)
                    )}
                </p>
            </section>
        </div>
    }
}

#[component]
fn QueueRow(q: QueueCounts) -> impl IntoView {
    use engine::model::JobList;
    let name = q.name.clone();
    let row_id = format!("queue-row-{}", format::dom_id(&name));
    let oldest = q
        .oldest_queued_age
        .map(format::age)
        .unwrap_or_else(|| "—".into());
    let link = view! { <a href=crate::url::href(&format::queue_href(&name))>{name.clone()}</a> };
    let cell = move |list: JobList| {
        let n = q.get(list);
        let href = crate::url::href(&format::queue_list_href(&name, list.as_str()));
        view! {
            <td class="num" class:hot=(list == JobList::Failed && n > 0)>
                <a href=href>{format::count(n)}</a>
            </td>
        }
    };
    view! {
        <tr data-testid=row_id>
            <td>{link}</td>
            {cell(JobList::Queued)}
            {cell(JobList::Started)}
            {cell(JobList::Finished)}
            {cell(JobList::Failed)}
            {cell(JobList::Deferred)}
            {cell(JobList::Scheduled)}
            {cell(JobList::Canceled)}
            <td class="num">{oldest}</td>
        </tr>
    }
}
