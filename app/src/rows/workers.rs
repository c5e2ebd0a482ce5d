//! The workers page's pools and worker rows as an island: Taskmill slots grouped by their pool
//! (process) with a scale form, Python workers supervised by `taskmill pool` grouped by that
//! pool, other (Python RQ) workers in their own group, stale ones flagged. Once hydrated it
//! re-renders from every feed frame's snapshot (the feed already carries every worker, so this
//! costs no read), unless paused or while the person is typing into a scale form.

use std::collections::BTreeMap;

use engine::model::{PoolInfo, WorkerInfo};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::actions::{KillHorse, ScaleWorkers, ShutdownWorker, StopJob};
use crate::components::forms::{PostButton, ReturnTo};
use crate::format;
use crate::live::LiveState;

const HERE: &str = "/workers";

/// The workers as a snapshot lists them, at `now` (the snapshot's `taken_at`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Workers {
    pub workers: Vec<WorkerInfo>,
    pub now: f64,
    pub busy: u64,
    pub idle: u64,
    pub stale: u64,
    /// `engine::limits::MAX_SLOTS` (a pool's default maximum), which the browser build lacks.
    pub max_slots: u64,
}

impl Workers {
    pub fn of(s: &engine::model::Snapshot, max_slots: u64) -> Workers {
        Workers {
            workers: s.workers.clone(),
            now: s.taken_at,
            busy: s.totals.workers_busy,
            idle: s.totals.workers_idle,
            stale: s.totals.workers_stale,
            max_slots,
        }
    }
}

/// Whether focus is in a form field of the page (a scale form being edited).
#[cfg(feature = "hydrate")]
fn editing() -> bool {
    document()
        .active_element()
        .is_some_and(|e| e.tag_name().eq_ignore_ascii_case("input"))
}

#[cfg(not(feature = "hydrate"))]
fn editing() -> bool {
    false
}

#[island]
pub fn LiveWorkers(initial: Workers, read_only: bool) -> impl IntoView {
    let data = RwSignal::new(initial);
    let hydrated = RwSignal::new(false);
    let live = crate::feed::live_switch();
    // The newest frame, also while paused, so resuming shows it at once.
    let latest = StoredValue::new(None::<Workers>);
    let live_now = live.clone();
    Effect::new(move |_| {
        hydrated.set(true);
        let live = live_now.clone();
        crate::feed::on("snapshot", move |json| {
            let Ok(LiveState {
                snapshot: Some(snap),
                ..
            }) = serde_json::from_str::<LiveState>(&json)
            else {
                return;
            };
            let next = Workers::of(&snap, data.with_untracked(|d| d.max_slots));
            latest.set_value(Some(next.clone()));
            if live.get_untracked() && !editing() {
                data.set(next);
            }
        });
    });
    Effect::new(move |_| {
        if live.get() {
            if let Some(next) = latest.get_value() {
                data.set(next);
            }
        }
    });
    view! {
        <div class="live-rows" data-testid="live-workers"
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            {move || data.with(|w| view! { <Pools w=w.clone() read_only=read_only/> })}
        </div>
    }
}

#[component]
fn Pools(w: Workers, read_only: bool) -> impl IntoView {
    let mut pools: BTreeMap<String, (PoolInfo, Vec<WorkerInfo>)> = BTreeMap::new();
    let mut others = Vec::new();
    let none = w.workers.is_empty();
    for wk in w.workers {
        match wk.pool.clone() {
            Some(p) => pools
                .entry(p.pool_id.clone())
                .or_insert((p, Vec::new()))
                .1
                .push(wk),
            None => others.push(wk),
        }
    }
    let (now, max_slots) = (w.now, w.max_slots);
    view! {
        <p data-testid="workers-totals">
            {format!(
                "{} busy · {} idle · {} stale",
                format::count(w.busy),
                format::count(w.idle),
                format::count(w.stale)
            )}
        </p>
        {none.then(|| view! { <p class="empty">"No workers registered."</p> })}
        {pools.into_iter().map(|(pool_id, (pool, workers))| {
            let python = pool.is_python();
            // A Python pool is scaled by its id; a Taskmill pool through any of its slots.
            let target = if python { pool_id.clone() } else { workers[0].name.clone() };
            view! {
                <section class="pool" data-testid=format!("pool-{}", format::dom_id(&pool_id))>
                    <h2>{if python { "Python pool " } else { "Taskmill pool " }} <code>{pool_id.clone()}</code></h2>
                    {python.then(|| view! {
                        <p class="desc" data-testid="pool-sizes">{format!(
                            "{} processes desired · {} running · {} RQ workers registered (min {}, max {})",
                            pool.concurrency,
                            pool.actual.unwrap_or(0),
                            workers.len(),
                            pool.min.unwrap_or(1),
                            pool.max.unwrap_or(max_slots),
                        )}</p>
                    })}
                    {(!read_only).then(|| view! {
                        <ScaleForm worker=target concurrency=pool.concurrency python=python
                            max=pool.max.unwrap_or(max_slots)/>
                    })}
                    <WorkerTable workers=workers now=now read_only=read_only/>
                </section>
            }
        }).collect_view()}
        {(!others.is_empty()).then(|| view! {
            <section class="pool" data-testid="other-workers">
                <h2>"RQ workers"</h2>
                <WorkerTable workers=others now=now read_only=read_only/>
            </section>
        })}
    }
}

#[component]
fn ScaleForm(worker: String, concurrency: u64, python: bool, max: u64) -> impl IntoView {
    let label = if python { "Processes " } else { "Slots " };
    crate::auth::may_post(ScaleWorkers::PATH).then(|| {
        view! {
            <form class="inline scale" method="post" action=crate::url::href(ScaleWorkers::PATH)>
                <ReturnTo to=HERE.to_string()/>
                <input type="hidden" name="worker" value=worker/>
                <label>
                    {label}
                    <input type="number" name="slots" class="narrow" min="1" max=max.to_string()
                        value=concurrency.to_string() required=true data-testid="scale-slots"/>
                </label>
                " "
                <button type="submit" class="btn small" data-testid="scale-submit">"Scale"</button>
            </form>
        }
    })
}

#[component]
fn WorkerTable(workers: Vec<WorkerInfo>, now: f64, read_only: bool) -> impl IntoView {
    view! {
        <table class="grid workers" data-testid="worker-table">
            <thead><tr>
                <th>"Name"</th><th>"Host"</th><th class="num">"PID"</th><th>"Queues"</th>
                <th>"State"</th><th>"Current job"</th><th>"Heartbeat"</th>
                <th class="num">"OK"</th><th class="num">"Failed"</th><th class="num">"Working time"</th>
                {(!read_only).then(|| view! { <th>"Actions"</th> })}
            </tr></thead>
            <tbody>
                {workers.into_iter().map(|w| view! { <WorkerRow w=w now=now read_only=read_only/> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn WorkerRow(w: WorkerInfo, now: f64, read_only: bool) -> impl IntoView {
    let name = w.name.clone();
    let heartbeat = match w.heartbeat_age {
        Some(age) => format!("{} ago", format::age(age)),
        None => format::ago(w.last_heartbeat, now),
    };
    let current = w.current_job.clone();
    view! {
        <tr id=format!("worker-{}", format::dom_id(&name)) class:stale=w.stale
            data-testid=format!("worker-{}", format::dom_id(&name))>
            <td class="wname">
                {name.clone()}
                {w.stale.then(|| view! {
                    <span class="tag stale" data-testid="stale" title="Listed in rq:workers, but its heartbeat expired or its hash is gone">"stale"</span>
                })}
                {w.version.clone().map(|v| view! { <div class="desc">{v}</div> })}
            </td>
            <td>{w.hostname.clone().unwrap_or_default()}</td>
            <td class="num">{w.pid.map(|p| p.to_string()).unwrap_or_default()}</td>
            <td>
                {w.queues.iter().map(|q| view! {
                    <a class="qlink" href=crate::url::href(&format::queue_href(q))>{q.clone()}</a>
                }).collect_view()}
            </td>
            <td><span class=format!("state state-{}", format::dom_id(&w.state))>{w.state.clone()}</span></td>
            <td>{current.clone().map(|id| view! { <a href=crate::url::href(&format::job_href(&id))>{id.clone()}</a> })}</td>
            <td>{heartbeat}</td>
            <td class="num">{format::count(w.successful_job_count)}</td>
            <td class="num">{format::count(w.failed_job_count)}</td>
            <td class="num">{format::duration(w.total_working_time)}</td>
            {(!read_only).then(|| view! {
                <td class="actions">
                    {current.map(|id| view! {
                        <PostButton url=StopJob::PATH label="Stop job".into()
                            fields=vec![("id", id)] return_to=HERE.into()
                            testid=format!("stop-job-{}", format::dom_id(&name)) danger=true/>
                    })}
                    <PostButton url=KillHorse::PATH label="Kill horse".into()
                        fields=vec![("worker", name.clone())] return_to=HERE.into()
                        testid=format!("kill-horse-{}", format::dom_id(&name)) danger=true/>
                    <PostButton url=ShutdownWorker::PATH label="Shutdown".into()
                        fields=vec![("worker", name.clone())] return_to=HERE.into()
                        testid=format!("shutdown-{}", format::dom_id(&name)) danger=true/>
                </td>
            })}
        </tr>
    }
}
