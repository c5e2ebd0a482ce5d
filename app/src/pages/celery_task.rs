//! `/celery/tasks/:id`: one Celery task — args, kwargs, result, traceback, retries, runtime,
//! worker, its workflow (root, parent, children) — with revoke (optionally terminating) and,
//! for failed tasks, retry by re-publishing its original message.

use engine::celery::types::CeleryTask;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::celery_queues::{celery, task_href, CeleryNav};
use crate::actions::{CeleryRetry, CeleryRevoke};
use crate::components::forms::{PostButton, ReturnTo};
use crate::components::status::{async_page, console, PageError};
use crate::format;

#[component]
pub fn CeleryTaskPage() -> impl IntoView {
    let c = celery();
    let read_only = console().read_only;
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    async_page(async move {
        let c = c?;
        engine::limits::validate_job_id(&id)?;
        let Some(t) = engine::celery::tasks::get(&c, &id).await? else {
            return Err(PageError::not_found(
                "No such Celery task",
                format!("Task {id} was never seen by Taskmill nor found in the result backend."),
            ));
        };
        Ok(view! {
            <Title text=format!("Celery task {id}")/>
            <CeleryNav/>
            <TaskView t=t read_only=read_only/>
        }
        .into_any())
    })
}

fn link(id: &Option<String>) -> impl IntoView {
    id.clone()
        .map(|i| view! { <a href=crate::url::href(&task_href(&i))>{i.clone()}</a> })
}

#[component]
fn TaskView(t: CeleryTask, read_only: bool) -> impl IntoView {
    let here = task_href(&t.id);
    let ready = matches!(t.state.as_str(), "SUCCESS" | "FAILURE" | "REVOKED");
    let retryable = engine::celery::retry::RETRYABLE.contains(&t.state.as_str());
    let timeline: Vec<(String, f64)> = t.timeline.clone().into_iter().collect();
    view! {
        <h1 class="job-title">
            <code data-testid="celery-task-name">{t.name.clone().unwrap_or_else(|| "(unknown task)".into())}</code>
            " "
            <span class=format!("status status-{}", format::dom_id(&t.state)) data-testid="celery-task-state">{t.state.clone()}</span>
        </h1>
        <dl class="kv" data-testid="celery-task">
            <dt>"Id"</dt><dd><code>{t.id.clone()}</code></dd>
            <dt>"Args"</dt><dd><code>{t.args.clone().unwrap_or_default()}</code></dd>
            <dt>"Kwargs"</dt><dd><code>{t.kwargs.clone().unwrap_or_default()}</code></dd>
            <dt>"Result"</dt><dd><code>{t.result.clone().unwrap_or_default()}</code></dd>
            <dt>"Exception"</dt><dd><code>{t.exception.clone().unwrap_or_default()}</code></dd>
            <dt>"Worker"</dt><dd>{t.worker.clone().unwrap_or_default()}</dd>
            <dt>"Queue"</dt><dd>{t.queue.clone().unwrap_or_default()}</dd>
            <dt>"Retries"</dt><dd>{t.retries.map(|r| r.to_string()).unwrap_or_default()}</dd>
            <dt>"Runtime"</dt><dd>{t.runtime_s.map(format::duration).unwrap_or_default()}</dd>
            <dt>"ETA"</dt><dd>{t.eta.clone().unwrap_or_default()}</dd>
            <dt>"Root"</dt><dd>{link(&t.root_id)}</dd>
            <dt>"Parent"</dt><dd>{link(&t.parent_id)}</dd>
            <dt>"Group"</dt><dd>{t.group_id.clone().unwrap_or_default()}</dd>
            <dt>"Children"</dt>
            <dd data-testid="celery-task-children">
                {t.children.iter().map(|c| view! { <a class="qlink" href=crate::url::href(&task_href(c))>{c.clone()}</a> " " }).collect_view()}
            </dd>
            <dt>"Done"</dt><dd>{t.date_done.clone().unwrap_or_default()}</dd>
        </dl>
        <h2>"Timeline"</h2>
        <ul>
            {timeline.into_iter().map(|(phase, at)| view! {
                <li>{format!("{phase}: {}", format::timestamp(Some(at)))}</li>
            }).collect_view()}
        </ul>
        {t.traceback.clone().map(|tb| view! { <h2>"Traceback"</h2><pre class="payload">{tb}</pre> })}
        {(!read_only).then(|| view! {
            <section class="actions">
                {(!ready && crate::auth::may_post(CeleryRevoke::PATH)).then(|| view! {
                    <form class="inline" method="post" action=crate::url::href(CeleryRevoke::PATH)>
                        <ReturnTo to=here.clone()/>
                        <input type="hidden" name="id" value=t.id.clone()/>
                        <label><input type="checkbox" name="terminate" value="on" data-testid="celery-terminate"/>" terminate"</label>
                        " "
                        <select name="signal">
                            {engine::celery::perform::SIGNALS.iter().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
                        </select>
                        " "
                        <button type="submit" class="btn small danger" data-testid="celery-revoke">"Revoke"</button>
                    </form>
                })}
                {retryable.then(|| view! {
                    <PostButton url=CeleryRetry::PATH label="Retry".into()
                        fields=vec![("id", t.id.clone())] return_to=here.clone() testid="celery-retry".into()/>
                })}
            </section>
        })}
    }
}
