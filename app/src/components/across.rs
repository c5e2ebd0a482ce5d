//! What the cross-queue registry pages (`/scheduled`, `/deferred`, `/canceled`) share: reading
//! one page of a registry merged across queues, the heading with its total, and the export links.

use std::sync::Arc;

use engine::model::{JobList, JobSummary, Page};
use leptos::prelude::*;

use crate::components::pager::PageReq;
use crate::components::status::PageError;
use crate::format;
use crate::state::Console;

/// One page of `list` across queues, and the total from the shared snapshot. Only queues the
/// snapshot counts entries for are merged, so the usual single busy queue is paged directly.
pub async fn load(
    console: &Arc<Console>,
    list: JobList,
    req: &PageReq,
) -> Result<(Page<JobSummary>, u64), PageError> {
    let snap = console.snapshot().await?;
    let names: Vec<String> = snap
        .queues
        .iter()
        .filter(|q| q.get(list) > 0)
        .map(|q| q.name.clone())
        .collect();
    let total = snap.queues.iter().map(|q| q.get(list)).sum();
    let page = console
        .backend
        .across(list, Some(&names), req.offset(), req.size)
        .await?;
    Ok((page, total))
}

/// `<h1>` with the total, what the order is, and the export links.
#[component]
pub fn AcrossHeading(list: JobList, heading: &'static str, total: u64) -> impl IntoView {
    let order = if engine::registry::ascending(list) {
        "Every queue, soonest first."
    } else {
        "Every queue, newest first."
    };
    view! {
        <h1>{heading} " " <span class="count" data-testid=format!("{}-total", list.as_str())>{format::count(total)}</span></h1>
        <p class="hint">{order} " " <ExportLinks path=format!("/api/v1/export/{}", list.as_str())/></p>
    }
}

/// "Export: CSV · JSON" links to an export route (`path` without a query string, or with one).
#[component]
pub fn ExportLinks(path: String) -> impl IntoView {
    let sep = if path.contains('?') { '&' } else { '?' };
    view! {
        <span class="export" data-testid="export-links">
            "Export: "
            <a href=crate::url::href(&format!("{path}{sep}format=csv")) download="" data-testid="export-csv">"CSV"</a>
            " · "
            <a href=crate::url::href(&format!("{path}{sep}format=json")) download="" data-testid="export-json">"JSON"</a>
        </span>
    }
}
