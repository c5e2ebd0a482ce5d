//! The job table shared by the queue and failed pages.

use std::sync::Arc;

use engine::model::{JobStatus, JobSummary};
use leptos::prelude::*;

use crate::components::forms::{RowAction, RowButton};
use crate::format;

/// Which optional columns a table shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Columns {
    pub origin: bool,
    pub exception: bool,
    pub worker: bool,
    /// Label for the registry score column (e.g. "Scheduled for"), if shown.
    pub score: Option<&'static str>,
}

#[component]
pub fn JobTable(
    jobs: Vec<JobSummary>,
    columns: Columns,
    /// Per-row actions; empty (or read-only) hides the checkboxes too.
    actions: Vec<RowAction>,
    now: f64,
) -> impl IntoView {
    let selectable = !actions.is_empty();
    if jobs.is_empty() {
        return view! { <p class="empty" data-testid="no-jobs">"No jobs here."</p> }.into_any();
    }
    view! {
        <table class="grid jobs" data-testid="job-table">
            <thead><tr>
                {selectable.then(|| view! { <th class="check"><span class="sr-only">"Select"</span></th> })}
                <th>"Job"</th>
                <th>"Function"</th>
                {columns.origin.then(|| view! { <th>"Queue"</th> })}
                <th>"Status"</th>
                <th>"Created"</th>
                <th>"Ended"</th>
                {columns.score.map(|label| view! { <th>{label}</th> })}
                {columns.worker.then(|| view! { <th>"Worker"</th> })}
                {columns.exception.then(|| view! { <th>"Exception"</th> })}
                {selectable.then(|| view! { <th>"Actions"</th> })}
            </tr></thead>
            <tbody>
                {jobs.into_iter().map(|job| view! {
                    <JobRow job=job columns=columns actions=actions.clone() now=now/>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn JobRow(job: JobSummary, columns: Columns, actions: Vec<RowAction>, now: f64) -> impl IntoView {
    let selectable = !actions.is_empty();
    let JobSummary {
        id,
        exists,
        status,
        origin,
        func_name,
        description,
        created_at,
        ended_at,
        worker_name,
        score,
        exc_summary,
        problem,
        ..
    } = job;
    // One shared copy of the id for the attributes that repeat it.
    let id: Arc<str> = id.into();
    let description = description.filter(|d| Some(d) != func_name.as_ref());
    let func = func_name
        .or_else(|| description.clone())
        .unwrap_or_else(|| "—".into());
    let status = status.as_ref().map(JobStatus::as_str).unwrap_or("?");
    let status_class = format!("status status-{}", format::dom_id(status));
    let status = status.to_string();
    view! {
        <tr data-testid=format!("job-row-{id}") class:missing=!exists>
            {selectable.then(|| view! {
                <td class="check">
                    <input
                        type="checkbox"
                        form="selection"
                        name="ids[]"
                        value=id.clone()
                        aria-label=format!("Select job {id}")
                        data-testid=format!("select-{id}")
                    />
                </td>
            })}
            <td class="id">
                <a href=crate::url::href(&format::job_href(&id))>{id.to_string()}</a>
                {(!exists).then(|| view! {
                    <span class="tag missing" data-testid="missing" title="Listed, but the job hash is gone">"missing"</span>
                })}
                {problem.map(|p| view! {
                    <span class="tag undecodable" data-testid="undecodable" title=p>"undecodable"</span>
                })}
            </td>
            <td class="func">
                <code>{func}</code>
                {description.map(|d| view! { <div class="desc">{d}</div> })}
            </td>
            {columns.origin.then(|| {
                let origin = origin.unwrap_or_default();
                let href = crate::url::href(&format::queue_href(&origin));
                view! { <td><a href=href>{origin}</a></td> }
            })}
            <td><span class=status_class>{status}</span></td>
            <td title=format::timestamp(created_at)>{format::ago(created_at, now)}</td>
            <td title=format::timestamp(ended_at)>{format::ago(ended_at, now)}</td>
            {columns.score.map(|_| view! {
                <td title=format::timestamp(score)>{format::ago(score, now)}</td>
            })}
            {columns.worker.then(|| view! {
                <td>{worker_name.map(|w| {
                    let href = crate::url::href(&format::worker_href(&w));
                    view! { <a href=href>{w}</a> }
                })}</td>
            })}
            {columns.exception.then(|| view! {
                <td class="exc"><code>{exc_summary.unwrap_or_default()}</code></td>
            })}
            {selectable.then(|| view! {
                <td class="actions">
                    {actions.into_iter().map(|a| view! { <RowButton action=a id=id.clone()/> }).collect_view()}
                </td>
            })}
        </tr>
    }
}
