//! Celery task rows (id, name, state, args, kwargs, worker, runtime, seen) as the failure-group
//! and search pages show them; every value is task data, escaped by the view.

use engine::celery::types::CeleryTaskSummary;
use leptos::prelude::*;

use crate::format;

/// A Celery task's page.
pub fn task_href(id: &str) -> String {
    format!("/celery/tasks/{}", format::url_part(id))
}

#[component]
pub fn CeleryTaskRows(tasks: Vec<CeleryTaskSummary>, testid: &'static str) -> impl IntoView {
    view! {
        <table class="grid" data-testid=testid>
            <thead><tr>
                <th>"Task id"</th><th>"Name"</th><th>"State"</th><th>"Args"</th><th>"Kwargs"</th>
                <th>"Worker"</th><th class="num">"Runtime"</th><th>"Seen"</th>
            </tr></thead>
            <tbody>
                {tasks.into_iter().map(|t| view! {
                    <tr data-testid=format!("celery-task-{}", format::dom_id(&t.id))>
                        <td><a href=crate::url::href(&task_href(&t.id))>{t.id.clone()}</a></td>
                        <td><code>{t.name.clone().unwrap_or_default()}</code></td>
                        <td><span class=format!("status status-{}", format::dom_id(&t.state))>{t.state.clone()}</span></td>
                        <td><code>{t.args.clone().unwrap_or_default()}</code></td>
                        <td><code>{t.kwargs.clone().unwrap_or_default()}</code></td>
                        <td>{t.worker.clone().unwrap_or_default()}</td>
                        <td class="num">{t.runtime_s.map(format::duration).unwrap_or_default()}</td>
                        <td>{(t.seen_at > 0.0).then(|| format::timestamp(Some(t.seen_at)))}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
