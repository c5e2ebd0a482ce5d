//! `/celery/workers/:hostname`: one worker's details through pidbox inspect (stats, active,
//! reserved, scheduled, registered, active_queues), each with its own deadline: a worker that
//! does not answer shows "no reply in N ms" for that part, not "Unknown worker". Below them,
//! every control command of the API as a plain form (pool grow / shrink, autoscale, rate and
//! time limits, add / cancel consumer, pool restart, shutdown); each answers with the worker's
//! reply, or "no reply in N ms", in the flash of the page it redirects back to.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde_json::Value;

use super::celery_queues::{celery, CeleryNav};
use super::celery_workers::worker_href;
use crate::actions::{
    CeleryAutoscale, CeleryConsumer, CeleryPool, CeleryPoolRestart, CeleryRateLimit,
    CeleryShutdown, CeleryTimeLimit,
};
use crate::components::forms::{PostButton, ReturnTo};
use crate::components::status::{async_page, console};

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
    let read_only = console().read_only;
    let host = use_params_map()
        .get_untracked()
        .get("hostname")
        .unwrap_or_default();
    async_page(async move {
        let c = c?;
        engine::limits::validate_worker_name(&host)?;
        let mut parts = Vec::new();
        let (mut tasks, mut queues) = (Vec::new(), Vec::new());
        for (m, r) in engine::celery::control::inspect_node(&c, &host, &METHODS).await {
            let r = r?;
            let text = match (r.replies.get(&host), r.no_reply) {
                (Some(v), _) => {
                    match m.as_str() {
                        "registered" => tasks = registered(v),
                        "active_queues" => queues = queue_names(v),
                        _ => {}
                    }
                    serde_json::to_string_pretty(v).unwrap_or_default()
                }
                (None, Some(why)) => why,
                (None, None) => "no reply from this node".into(),
            };
            parts.push((m, text));
        }
        Ok(view! {
            <Title text=format!("Celery worker {host}")/>
            <h1>"Celery worker " <code>{host.clone()}</code></h1>
            <CeleryNav/>
            {(!read_only).then(|| view! { <WorkerActions host=host.clone() tasks=tasks queues=queues/> })}
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

/// Task names of a `registered` reply (`"name [rate_limit=...]"` entries).
fn registered(v: &Value) -> Vec<String> {
    let names = v.as_array().into_iter().flatten().filter_map(Value::as_str);
    names
        .map(|s| s.split(' ').next().unwrap_or(s).to_string())
        .collect()
}

/// Queue names of an `active_queues` reply.
fn queue_names(v: &Value) -> Vec<String> {
    let queues = v.as_array().into_iter().flatten();
    queues
        .filter_map(|q| q.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// One form per control command, posting back to this page.
#[component]
fn WorkerActions(host: String, tasks: Vec<String>, queues: Vec<String>) -> impl IntoView {
    let here = worker_href(&host);
    let hidden = {
        let (host, here) = (host.clone(), here.clone());
        move || {
            view! {
                <ReturnTo to=here.clone()/>
                <input type="hidden" name="worker" value=host.clone()/>
            }
        }
    };
    view! {
        <section class="actions" data-testid="celery-worker-actions">
            <h2>"Control"</h2>
            <datalist id="celery-registered">
                {tasks.into_iter().map(|t| view! { <option value=t/> }).collect_view()}
            </datalist>
            <datalist id="celery-active-queues">
                {queues.into_iter().map(|q| view! { <option value=q/> }).collect_view()}
            </datalist>
            <form class="inline" method="post" action=crate::url::href(CeleryPool::PATH) data-testid="celery-pool-form">
                {hidden()}
                <label>"Pool " <input type="number" name="n" class="narrow" min="1"
                    max=engine::limits::MAX_SLOTS.to_string() value="1" required=true data-testid="celery-pool-n"/></label>
                " "
                <button type="submit" class="btn small" name="op" value="grow" data-testid="celery-pool-grow">"Grow"</button>
                <button type="submit" class="btn small" name="op" value="shrink" data-testid="celery-pool-shrink">"Shrink"</button>
            </form>
            <form class="inline" method="post" action=crate::url::href(CeleryAutoscale::PATH) data-testid="celery-autoscale-form">
                {hidden()}
                <label>"Autoscale max " <input type="number" name="max" class="narrow" min="1"
                    max=engine::limits::MAX_SLOTS.to_string() required=true data-testid="celery-autoscale-max"/></label>
                <label>" min " <input type="number" name="min" class="narrow" min="0"
                    max=engine::limits::MAX_SLOTS.to_string() value="0" data-testid="celery-autoscale-min"/></label>
                " "
                <button type="submit" class="btn small" data-testid="celery-autoscale">"Autoscale"</button>
            </form>
            <form class="inline" method="post" action=crate::url::href(CeleryRateLimit::PATH) data-testid="celery-rate-limit-form">
                {hidden()}
                <label>"Rate limit task " <input type="text" name="task" list="celery-registered"
                    required=true data-testid="celery-rate-limit-task"/></label>
                <label>" rate " <input type="text" name="rate" class="narrow" placeholder="10/m"
                    required=true data-testid="celery-rate-limit-rate"/></label>
                " "
                <button type="submit" class="btn small" data-testid="celery-rate-limit">"Set rate limit"</button>
            </form>
            <form class="inline" method="post" action=crate::url::href(CeleryTimeLimit::PATH) data-testid="celery-time-limit-form">
                {hidden()}
                <label>"Time limit task " <input type="text" name="task" list="celery-registered"
                    required=true data-testid="celery-time-limit-task"/></label>
                <label>" soft " <input type="number" name="soft" class="narrow" min="0" step="any"
                    placeholder="s" data-testid="celery-time-limit-soft"/></label>
                <label>" hard " <input type="number" name="hard" class="narrow" min="0" step="any"
                    placeholder="s" data-testid="celery-time-limit-hard"/></label>
                " "
                <button type="submit" class="btn small" data-testid="celery-time-limit">"Set time limit"</button>
            </form>
            <form class="inline" method="post" action=crate::url::href(CeleryConsumer::PATH) data-testid="celery-consumer-form">
                {hidden()}
                <label>"Queue " <input type="text" name="queue" list="celery-active-queues"
                    required=true data-testid="celery-consumer-queue"/></label>
                " "
                <button type="submit" class="btn small" name="op" value="add" data-testid="celery-consumer-add">"Add consumer"</button>
                <button type="submit" class="btn small" name="op" value="cancel" data-testid="celery-consumer-cancel">"Cancel consumer"</button>
            </form>
            <div>
                <PostButton url=CeleryPoolRestart::PATH label="Restart pool".into()
                    fields=vec![("worker", host.clone())] return_to=here.clone()
                    testid="celery-pool-restart".into()/>
                <PostButton url=CeleryShutdown::PATH label="Shutdown".into()
                    fields=vec![("worker", host.clone())] return_to=here
                    testid="celery-shutdown".into() danger=true/>
            </div>
        </section>
    }
}
