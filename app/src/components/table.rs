//! The job table shared by the queue and failed pages.

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
    let id = job.id.clone();
    let func = job
        .func_name
        .clone()
        .or_else(|| job.description.clone())
        .unwrap_or_else(|| "—".into());
    let description = job
        .description
        .clone()
        .filter(|d| Some(d) != job.func_name.as_ref());
    let status = job
        .status
        .as_ref()
        .map(JobStatus::as_str)
        .unwrap_or("?")
        .to_string();
    view! {
        <tr data-testid=format!("job-row-{id}") class:missing=!job.exists>
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
                <a href=format::job_href(&id)>{id.clone()}</a>
                {(!job.exists).then(|| view! {
                    <span class="tag missing" data-testid="missing" title="Listed, but the job hash is gone">"missing"</span>
                })}
                {job.problem.clone().map(|p| view! {
                    <span class="tag undecodable" data-testid="undecodable" title=p>"undecodable"</span>
                })}
            </td>
            <td class="func">
                <code>{func}</code>
                {description.map(|d| view! { <div class="desc">{d}</div> })}
            </td>
            {columns.origin.then(|| {
                let origin = job.origin.clone().unwrap_or_default();
                view! { <td><a href=format::queue_href(&origin)>{origin.clone()}</a></td> }
            })}
            <td><span class=format!("status status-{status}")>{status.clone()}</span></td>
            <td title=format::timestamp(job.created_at)>{format::ago(job.created_at, now)}</td>
            <td title=format::timestamp(job.ended_at)>{format::ago(job.ended_at, now)}</td>
            {columns.score.map(|_| view! {
                <td title=format::timestamp(job.score)>{format::ago(job.score, now)}</td>
            })}
            {columns.worker.then(|| view! {
                <td>{job.worker_name.clone().map(|w| view! {
                    <a href=format::worker_href(&w)>{w.clone()}</a>
                })}</td>
            })}
            {columns.exception.then(|| view! {
                <td class="exc"><code>{job.exc_summary.clone().unwrap_or_default()}</code></td>
            })}
            {selectable.then(|| view! {
                <td class="actions">
                    {actions.into_iter().map(|a| view! { <RowButton action=a id=id.clone()/> }).collect_view()}
                </td>
            })}
        </tr>
    }
}
