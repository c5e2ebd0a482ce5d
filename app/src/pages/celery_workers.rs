//! `/celery/workers`: Celery workers from events — online by heartbeat (2 × freq), offline ones
//! greyed for an hour instead of dropped — with pool grow / shrink and shutdown.

use engine::celery::types::CeleryWorker;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use super::celery_queues::{celery, CeleryNav};
use crate::actions::{CeleryPool, CeleryShutdown};
use crate::components::forms::PostButton;
use crate::components::status::{async_page, console};
use crate::format;

const HERE: &str = "/celery/workers";

pub fn worker_href(host: &str) -> String {
    format!("/celery/workers/{}", format::url_part(host))
}

#[component]
pub fn CeleryWorkersPage() -> impl IntoView {
    let c = celery();
    let read_only = console().read_only;
    async_page(async move {
        let c = c?;
        let workers = c.workers();
        let now = engine::time::now();
        Ok(view! {
            <Title text="Celery workers"/>
            <h1>"Celery workers"</h1>
            <CeleryNav/>
            {workers.is_empty().then(|| view! {
                <p class="empty">"No worker events yet (workers need -E, or they have not sent a heartbeat since the console started)."</p>
            })}
            <table class="grid workers" data-testid="celery-workers">
                <thead><tr>
                    <th>"Worker"</th><th>"State"</th><th class="num">"Pool"</th>
                    <th class="num">"Active"</th><th class="num">"Processed"</th><th>"Load"</th>
                    <th>"Heartbeat"</th><th>"Queues"</th>
                    {(!read_only).then(|| view! { <th>"Actions"</th> })}
                </tr></thead>
                <tbody>
                    {workers.into_iter().map(|w| view! { <Row w=w now=now read_only=read_only/> }).collect_view()}
                </tbody>
            </table>
        }
        .into_any())
    })
}

#[component]
fn Row(w: CeleryWorker, now: f64, read_only: bool) -> impl IntoView {
    let host = w.hostname.clone();
    let load = w
        .loadavg
        .iter()
        .map(|l| format!("{l:.2}"))
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <tr class:stale=!w.online data-testid=format!("celery-worker-{}", format::dom_id(&host))>
            <td><a href=crate::url::href(&worker_href(&host))>{host.clone()}</a>
                {w.sw_ver.clone().map(|v| view! { <div class="desc">{format!("celery {v}")}</div> })}</td>
            <td data-testid="celery-worker-state">{if w.online { "online" } else { "offline" }}</td>
            <td class="num">{w.pool_size.map(|p| p.to_string()).unwrap_or_default()}</td>
            <td class="num">{format::count(w.active)}</td>
            <td class="num">{format::count(w.processed)}</td>
            <td>{load}</td>
            <td>{format::ago(w.last_heartbeat.or(w.offline_since), now)}</td>
            <td>{w.queues.join(", ")}</td>
            {(!read_only && w.online).then(|| view! {
                <td class="actions">
                    <PostButton url=CeleryPool::PATH label="+1 process".into()
                        fields=vec![("worker", host.clone()), ("op", "grow".into())]
                        return_to=HERE.into() testid=format!("celery-grow-{}", format::dom_id(&host))/>
                    <PostButton url=CeleryPool::PATH label="−1 process".into()
                        fields=vec![("worker", host.clone()), ("op", "shrink".into())]
                        return_to=HERE.into() testid=format!("celery-shrink-{}", format::dom_id(&host))/>
                    <PostButton url=CeleryShutdown::PATH label="Shutdown".into()
                        fields=vec![("worker", host.clone())] return_to=HERE.into()
                        testid=format!("celery-shutdown-{}", format::dom_id(&host)) danger=true/>
                </td>
            })}
        </tr>
    }
}
