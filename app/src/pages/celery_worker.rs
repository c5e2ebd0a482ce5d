//! `/celery/workers/:hostname`: one worker's details through pidbox inspect (stats, active,
//! reserved, scheduled, registered, active_queues), each with its own deadline: a worker that
//! does not answer shows "no reply in N ms" for that part, not "Unknown worker".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::celery_queues::{celery, CeleryNav};
use crate::components::status::async_page;

const METHODS: [&str; 6] = [
    "stats",
    "active",
    "reserved",
    "scheduled",
    "registered",
    "active_queues",
];

#[component]
pub fn CeleryWorkerPage() -> impl IntoView {
    let c = celery();
    let host = use_params_map()
        .get_untracked()
        .get("hostname")
        .unwrap_or_default();
    async_page(async move {
        let c = c?;
        engine::limits::validate_worker_name(&host)?;
        let mut parts = Vec::new();
        for (m, r) in engine::celery::control::inspect_node(&c, &host, &METHODS).await {
            let r = r?;
            let text = match (r.replies.get(&host), r.no_reply) {
                (Some(v), _) => serde_json::to_string_pretty(v).unwrap_or_default(),
                (None, Some(why)) => why,
                (None, None) => "no reply from this node".into(),
            };
            parts.push((m, text));
        }
        Ok(view! {
            <Title text=format!("Celery worker {host}")/>
            <h1>"Celery worker " <code>{host.clone()}</code></h1>
            <CeleryNav/>
            {parts.into_iter().map(|(m, text)| view! {
                <section data-testid=format!("inspect-{m}")>
                    <h2>{m.clone()}</h2>
                    <pre class="payload">{text}</pre>
                </section>
            }).collect_view()}
        }
        .into_any())
    })
}
