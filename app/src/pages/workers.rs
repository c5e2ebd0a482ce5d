//! `/workers`: every worker in `rq:workers`, Taskmill slots grouped by their pool (process)
//! with a scale form, Python workers supervised by `taskmill pool` grouped by that pool (desired
//! vs running processes, scale form), other (Python RQ) workers in their own group. Stale
//! workers are flagged.

use std::collections::BTreeMap;

use engine::model::{PoolInfo, WorkerInfo};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::actions::{KillHorse, ScaleWorkers, ShutdownWorker, StopJob};
use crate::charts::{parse_range, Kind, LiveChart, RangeSwitch};
use crate::components::forms::{PostButton, ReturnTo};
use crate::components::status::PageError;
use crate::components::status::{async_page, console};
use crate::format;
use crate::watch::{LiveWatch, Watch};
use leptos_router::hooks::use_query_map;

const HERE: &str = "/workers";

#[component]
pub fn WorkersPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let range = parse_range(query.get("range").as_deref()).map_err(PageError::BadRequest)?;
        let snap = console.snapshot().await?;
        let busy = crate::charts::load::views(&console, &[Kind::Busy], None, range).await;
        let mut pools: BTreeMap<String, (PoolInfo, Vec<WorkerInfo>)> = BTreeMap::new();
        let mut others = Vec::new();
        for w in snap.workers.iter().cloned() {
            match w.pool.clone() {
                Some(p) => pools
                    .entry(p.pool_id.clone())
                    .or_insert((p, Vec::new()))
                    .1
                    .push(w),
                None => others.push(w),
            }
        }
        let read_only = console.read_only;
        let none = snap.workers.is_empty();
        let t = &snap.totals;
        let live_counts = Watch::Workers.counts(&snap);
        Ok(view! {
            <Title text="Workers"/>
            <h1>"Workers"</h1>
            <LiveWatch watch=Watch::Workers initial=live_counts here=HERE.to_string()/>
            <section class="charts-section">
                <RangeSwitch base=HERE.to_string() current=range.to_string()/>
                <div class="charts">
                    {busy.into_iter().map(|v| view! { <LiveChart view=v/> }).collect_view()}
                </div>
            </section>
            <p data-testid="workers-totals">
                {format!(
                    "{} busy · {} idle · {} stale",
                    format::count(t.workers_busy),
                    format::count(t.workers_idle),
                    format::count(t.workers_stale)
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
                                pool.max.unwrap_or(engine::limits::MAX_SLOTS),
                            )}</p>
                        })}
                        {(!read_only).then(|| view! {
                            <ScaleForm worker=target concurrency=pool.concurrency python=python
                                max=pool.max.unwrap_or(engine::limits::MAX_SLOTS)/>
                        })}
                        <WorkerTable workers=workers now=snap.taken_at read_only=read_only/>
                    </section>
                }
            }).collect_view()}
            {(!others.is_empty()).then(|| view! {
                <section class="pool" data-testid="other-workers">
                    <h2>"RQ workers"</h2>
                    <WorkerTable workers=others now=snap.taken_at read_only=read_only/>
                </section>
            })}
        }
        .into_any())
    })
}

#[component]
fn ScaleForm(worker: String, concurrency: u64, python: bool, max: u64) -> impl IntoView {
    let label = if python { "Processes " } else { "Slots " };
    crate::auth::may_post(ScaleWorkers::PATH).then(|| {
        view! {
            <form class="inline scale" method="post" action=ScaleWorkers::PATH>
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
                    <a class="qlink" href=format::queue_href(q)>{q.clone()}</a>
                }).collect_view()}
            </td>
            <td><span class=format!("state state-{}", format::dom_id(&w.state))>{w.state.clone()}</span></td>
            <td>{current.clone().map(|id| view! { <a href=format::job_href(&id)>{id.clone()}</a> })}</td>
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
