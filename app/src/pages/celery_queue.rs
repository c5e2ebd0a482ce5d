//! `/celery/queues/:name`: one Celery queue's messages in consumption order (peeked with
//! LRANGE, never consumed) and the reserved / ETA messages workers hold for it. Undecodable
//! messages say why instead of failing the page.

use engine::celery::types::CeleryMessage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::celery_queues::{celery, task_href, CeleryNav};
use crate::components::pager::{PageReq, Pager};
use crate::components::status::async_page;
use crate::format;

#[component]
pub fn CeleryQueuePage() -> impl IntoView {
    let c = celery();
    let name = use_params_map()
        .get_untracked()
        .get("name")
        .unwrap_or_default();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let c = c?;
        let req = PageReq::from_query(&query)?;
        let page = engine::celery::queues::page(&c, &name, req.offset(), req.size).await?;
        let base = format!("{}?", super::celery_queues::queue_href(&name));
        let q = page.queue.clone();
        Ok(view! {
            <Title text=format!("Celery queue {name}")/>
            <h1>"Celery queue " <code>{name.clone()}</code></h1>
            <CeleryNav/>
            <p data-testid="celery-queue-counts">
                {format!("{} ready · {} reserved ({} with ETA) · {} consumers",
                    format::count(q.ready), format::count(q.reserved), format::count(q.eta),
                    format::count(q.consumers))}
            </p>
            <h2>"Waiting (next first)"</h2>
            <Messages messages=page.messages testid="celery-messages"/>
            <Pager base=base req=req total=q.ready/>
            <h2>"Reserved by workers"</h2>
            <Messages messages=page.reserved testid="celery-reserved"/>
        }
        .into_any())
    })
}

#[component]
pub fn Messages(messages: Vec<CeleryMessage>, testid: &'static str) -> impl IntoView {
    if messages.is_empty() {
        return view! { <p class="empty">"None."</p> }.into_any();
    }
    view! {
        <table class="grid" data-testid=testid>
            <thead><tr>
                <th>"Task id"</th><th>"Task"</th><th>"Args"</th><th>"Kwargs"</th><th>"ETA"</th>
                <th class="num">"Retries"</th><th class="num">"Priority"</th><th>"Root / parent"</th>
            </tr></thead>
            <tbody>
                {messages.into_iter().map(|m| {
                    let id = m.id.clone().unwrap_or_default();
                    view! {
                        <tr>
                            <td>{(!id.is_empty()).then(|| view! { <a href=crate::url::href(&task_href(&id))>{id.clone()}</a> })}</td>
                            <td>
                                <code>{m.task.clone().unwrap_or_default()}</code>
                                {m.undecodable.clone().map(|why| view! {
                                    <span class="tag undecodable" data-testid="undecodable" title=why>"undecodable"</span>
                                })}
                                {m.redelivered.then(|| view! { <span class="tag">"redelivered"</span> })}
                            </td>
                            <td><code>{m.args.clone().unwrap_or_default()}</code></td>
                            <td><code>{m.kwargs.clone().unwrap_or_default()}</code></td>
                            <td>{m.eta.clone().unwrap_or_default()}</td>
                            <td class="num">{m.retries.map(|r| r.to_string()).unwrap_or_default()}</td>
                            <td class="num">{m.priority.map(|r| r.to_string()).unwrap_or_default()}</td>
                            <td>{m.root_id.clone().unwrap_or_default()} " / " {m.parent_id.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
