//! `/celery/tasks`: tasks Taskmill recorded from events (kept in Redis, so they survive a
//! console restart and are shared by several consoles), newest first, filtered by state and
//! name.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::celery_queues::{celery, task_href, CeleryNav};
use crate::components::pager::{PageReq, Pager};
use crate::components::status::async_page;
use crate::format;

#[component]
pub fn CeleryTasksPage() -> impl IntoView {
    let c = celery();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let c = c?;
        let req = PageReq::from_query(&query)?;
        let state = query.get("state").filter(|s| !s.is_empty());
        let name = query.get("name").filter(|s| !s.is_empty());
        let page = engine::celery::tasks::list(
            &c,
            state.as_deref(),
            name.as_deref(),
            req.offset(),
            req.size,
        )
        .await?;
        let names = engine::celery::tasks::names(&c, 200).await?;
        let mut base = String::from("/celery/tasks?");
        for (k, v) in [("state", &state), ("name", &name)] {
            if let Some(v) = v {
                base.push_str(&format!("{k}={}&", format::url_part(v)));
            }
        }
        let partial = (!page.complete).then(|| {
            format!(
                "Both filters: the newest {} tasks of that state were examined.",
                format::count(page.examined)
            )
        });
        let total = if state.is_some() && name.is_some() {
            page.items.len() as u64 + req.offset()
        } else {
            page.total
        };
        let cur_state = state.clone().unwrap_or_default();
        let cur_name = name.clone().unwrap_or_default();
        Ok(view! {
            <Title text="Celery tasks"/>
            <h1>"Celery tasks"</h1>
            <CeleryNav/>
            <form method="get" action=crate::url::href("/celery/tasks") class="inline" data-testid="celery-task-filter">
                <label>"State "
                    <select name="state">
                        <option value="">"any"</option>
                        {engine::celery::tasks::STATES.iter().map(|s| view! {
                            <option value=*s selected=cur_state == *s>{*s}</option>
                        }).collect_view()}
                    </select>
                </label>
                " "
                <label>"Name "
                    <select name="name">
                        <option value="">"any"</option>
                        {names.into_iter().map(|n| {
                            let sel = cur_name == n;
                            view! { <option value=n.clone() selected=sel>{n.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                " "
                <button type="submit" class="btn small">"Filter"</button>
            </form>
            {partial.map(|p| view! { <p class="warn">{p}</p> })}
            <table class="grid" data-testid="celery-tasks">
                <thead><tr>
                    <th>"Task id"</th><th>"Name"</th><th>"State"</th><th>"Args"</th><th>"Kwargs"</th>
                    <th>"Worker"</th><th class="num">"Runtime"</th><th>"Seen"</th>
                </tr></thead>
                <tbody>
                    {page.items.into_iter().map(|t| view! {
                        <tr data-testid=format!("celery-task-{}", format::dom_id(&t.id))>
                            <td><a href=crate::url::href(&task_href(&t.id))>{t.id.clone()}</a></td>
                            <td><code>{t.name.clone().unwrap_or_default()}</code></td>
                            <td><span class=format!("status status-{}", format::dom_id(&t.state))>{t.state.clone()}</span></td>
                            <td><code>{t.args.clone().unwrap_or_default()}</code></td>
                            <td><code>{t.kwargs.clone().unwrap_or_default()}</code></td>
                            <td>{t.worker.clone().unwrap_or_default()}</td>
                            <td class="num">{t.runtime_s.map(format::duration).unwrap_or_default()}</td>
                            <td>{format::timestamp(Some(t.seen_at))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <Pager base=base req=req total=total/>
        }
        .into_any())
    })
}
