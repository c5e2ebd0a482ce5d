//! `/celery`: every Celery queue from the binding sets (also those nobody consumes) with ready,
//! reserved / ETA (from `unacked`), consumers and the age of the next message; the event
//! subscription's state. Shared helpers of the Celery pages live here too.

use std::sync::Arc;

use engine::celery::Celery;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::{async_page, console, PageError};
use crate::format;

/// The console's Celery handle, or a 404 page saying how to configure one.
pub fn celery() -> Result<Arc<Celery>, PageError> {
    console().celery.clone().ok_or_else(|| {
        PageError::not_found(
            "Celery is not configured",
            "Start the console with --celery-broker URL (or CELERY_BROKER_URL) to see Celery.",
        )
    })
}

pub fn queue_href(name: &str) -> String {
    format!("/celery/queues/{}", format::url_part(name))
}

pub fn task_href(id: &str) -> String {
    format!("/celery/tasks/{}", format::url_part(id))
}

/// The Celery sub-navigation.
#[component]
pub fn CeleryNav() -> impl IntoView {
    view! {
        <nav class="tabs" data-testid="celery-nav">
            <a href=crate::url::href("/celery")>"Queues"</a>
            <a href=crate::url::href("/celery/workers")>"Workers"</a>
            <a href=crate::url::href("/celery/tasks")>"Tasks"</a>
        </nav>
    }
}

#[component]
pub fn CeleryQueuesPage() -> impl IntoView {
    let c = celery();
    async_page(async move {
        let c = c?;
        let q = engine::celery::queues::list(&c).await?;
        let status = c.event_status();
        let events = if status.connected {
            format!(
                "events: subscribed ({} received, {} reconnects)",
                status.events, status.reconnects
            )
        } else {
            format!(
                "events: not connected — reconnecting ({})",
                status.last_error.unwrap_or_else(|| "starting".into())
            )
        };
        let partial = (!q.unacked_complete || !q.bindings_complete).then(|| {
            format!(
                "Partial counts: {} unacked entries read; reserved is a lower bound.",
                format::count(q.unacked_scanned)
            )
        });
        Ok(view! {
            <Title text="Celery queues"/>
            <h1>"Celery"</h1>
            <CeleryNav/>
            <p class="desc" data-testid="celery-events">{events}</p>
            {partial.map(|p| view! { <p class="warn">{p}</p> })}
            {q.queues.is_empty().then(|| view! { <p class="empty">"No Celery queues found."</p> })}
            <table class="grid" data-testid="celery-queues">
                <thead><tr>
                    <th>"Queue"</th><th class="num">"Ready"</th><th class="num">"Reserved"</th>
                    <th class="num">"ETA"</th><th class="num">"Consumers"</th><th>"Oldest"</th>
                </tr></thead>
                <tbody>
                    {q.queues.into_iter().map(|q| view! {
                        <tr data-testid=format!("celery-queue-{}", format::dom_id(&q.name))>
                            <td><a href=crate::url::href(&queue_href(&q.name))>{q.name.clone()}</a></td>
                            <td class="num">{format::count(q.ready)}</td>
                            <td class="num">{format::count(q.reserved)}</td>
                            <td class="num">{format::count(q.eta)}</td>
                            <td class="num">{format::count(q.consumers)}</td>
                            <td>{q.oldest_age_s.map(format::age).unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any())
    })
}
