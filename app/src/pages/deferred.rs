//! `/deferred?page=&size=`: deferred jobs of every queue, newest first, each with what it waits
//! on — its dependency ids as links with their current status (up to
//! `engine::registry::MAX_DEPS_PER_JOB` per job, read in two pipelined round trips per page) —
//! and enqueue-now / cancel / delete per row and for a selection.

use std::sync::Arc;

use engine::model::{DeferredJob, JobList, JobStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::across::{load, AcrossHeading};
use crate::components::forms::{RowAction, RowButton, RowForms};
use crate::components::pager::{PageReq, Pager};
use crate::components::status::{async_page, console};
use crate::format;
use crate::pages::queue::row_actions;

#[component]
pub fn DeferredPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let req = PageReq::from_query(&query)?;
        let (page, total) = load(&console, JobList::Deferred, &req).await?;
        let page = console.backend.with_dependencies(page).await?;
        let here = format!("/deferred?page={}&size={}", req.page, req.size);
        let actions = if console.read_only {
            vec![]
        } else {
            row_actions(JobList::Deferred)
        };
        let now = engine::time::now();
        let rows = page.items;
        Ok(view! {
            <Title text="Deferred jobs"/>
            <AcrossHeading list=JobList::Deferred heading="Deferred jobs" total=total/>
            <RowForms actions=actions.clone() return_to=here/>
            {if rows.is_empty() {
                view! { <p class="empty" data-testid="no-jobs">"No jobs here."</p> }.into_any()
            } else {
                view! { <DeferredTable rows=rows actions=actions now=now/> }.into_any()
            }}
            <Pager base="/deferred?".to_string() req=req total=page.total/>
        }
        .into_any())
    })
}

#[component]
fn DeferredTable(rows: Vec<DeferredJob>, actions: Vec<RowAction>, now: f64) -> impl IntoView {
    let selectable = !actions.is_empty();
    view! {
        <table class="grid jobs" data-testid="job-table">
            <thead><tr>
                {selectable.then(|| view! { <th class="check"><span class="sr-only">"Select"</span></th> })}
                <th>"Job"</th>
                <th>"Function"</th>
                <th>"Queue"</th>
                <th>"Deferred"</th>
                <th>"Waits on"</th>
                {selectable.then(|| view! { <th>"Actions"</th> })}
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let id: Arc<str> = row.job.id.clone().into();
                    let func = row.job.func_name.clone()
                        .or_else(|| row.job.description.clone())
                        .unwrap_or_else(|| "—".into());
                    let origin = row.job.origin.clone().unwrap_or_default();
                    let more = row.depends_on_total.saturating_sub(row.depends_on.len() as u64);
                    let actions = actions.clone();
                    view! {
                        <tr data-testid=format!("job-row-{id}") class:missing=!row.job.exists>
                            {selectable.then(|| view! {
                                <td class="check">
                                    <input type="checkbox" form="selection" name="ids[]" value=id.clone()
                                        aria-label=format!("Select job {id}") data-testid=format!("select-{id}")/>
                                </td>
                            })}
                            <td class="id"><a href=crate::url::href(&format::job_href(&id))>{id.to_string()}</a></td>
                            <td class="func"><code>{func}</code></td>
                            <td><a href=crate::url::href(&format::queue_href(&origin))>{origin.clone()}</a></td>
                            <td title=format::timestamp(row.job.score)>{format::ago(row.job.score, now)}</td>
                            <td class="deps" data-testid=format!("deps-{id}")>
                                {row.depends_on.into_iter().map(|d| {
                                    let status = d.status.as_ref().map(JobStatus::as_str).unwrap_or("missing").to_string();
                                    let class = format!("status status-{}", format::dom_id(&status));
                                    view! {
                                        <span class="dep">
                                            <a href=crate::url::href(&format::job_href(&d.id))>{d.id.clone()}</a>
                                            " " <span class=class>{status}</span>
                                        </span>
                                        " "
                                    }
                                }).collect_view()}
                                {(more > 0).then(|| view! { <span class="hint">{format!("and {} more", format::count(more))}</span> })}
                            </td>
                            {selectable.then(|| view! {
                                <td class="actions">
                                    {actions.into_iter().map(|a| view! { <RowButton action=a id=id.clone()/> }).collect_view()}
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
