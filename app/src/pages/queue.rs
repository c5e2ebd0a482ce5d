//! `/queues/:name?list=&page=&size=&confirm=`: one queue, a tab per list, paginated job rows
//! with the actions valid for that list, and the queue-wide actions behind a confirmation step.
//! The rows and pager are `rows::LiveJobs` (live once hydrated); the charts are that queue's.

use engine::model::{JobList, QueueCounts};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::auth::may_post;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::actions::{EmptyQueue, RequeueQueue};
use crate::charts::{parse_range, Kind, LiveChart, RangeSwitch};
use crate::components::across::ExportLinks;
use crate::components::forms::{ConfirmPanel, RowAction, RowForms};
use crate::components::pager::PageReq;
use crate::components::status::{async_page, console, PageError};
use crate::format;
use crate::rows::{JobRows, LiveJobs, RowsReq};
use crate::watch::{LiveWatch, Watch};

/// Row actions that make sense for jobs in `list`.
pub fn row_actions(list: JobList) -> Vec<RowAction> {
    use RowAction::*;
    match list {
        JobList::Queued => vec![Cancel, Delete],
        JobList::Started => vec![],
        JobList::Finished => vec![Delete],
        JobList::Failed => vec![Requeue, Delete],
        JobList::Deferred | JobList::Scheduled => vec![EnqueueNow, Cancel, Delete],
        JobList::Canceled => vec![EnqueueNow, Delete],
    }
}

#[component]
pub fn QueuePage() -> impl IntoView {
    let console = console();
    let name = use_params_map()
        .get_untracked()
        .get("name")
        .unwrap_or_default();
    let query = use_query_map().get_untracked();
    async_page(async move {
        engine::limits::validate_queue_name(&name)
            .map_err(|e| PageError::BadRequest(e.to_string()))?;
        let list = match query.get("list") {
            None => JobList::Queued,
            Some(l) => JobList::parse(&l).ok_or_else(|| {
                PageError::BadRequest(format!(
                    "Unknown list {l:?}: use queued, started, finished, failed, deferred, \
                     scheduled or canceled."
                ))
            })?,
        };
        let req = PageReq::from_query(&query)?;
        let range = parse_range(query.get("range").as_deref()).map_err(PageError::BadRequest)?;
        let snap = console.snapshot().await?;
        let known = snap.queues.iter().find(|q| q.name == name).cloned();
        // A queue newer than the snapshot is checked live before saying it doesn't exist.
        if known.is_none() && !console.backend.queue_exists(&name).await? {
            return Err(PageError::not_found(
                "No such queue",
                format!("There is no queue named \u{201c}{name}\u{201d} in rq:queues."),
            ));
        }
        let counts = known.unwrap_or_else(|| QueueCounts {
            name: name.clone(),
            ..Default::default()
        });
        let rows_req = RowsReq {
            queue: Some(name.clone()),
            list: list.as_str().to_string(),
            page: req.page,
            size: req.size,
        };
        // Shared with every request for the same rows within a feed tick (reset by actions).
        let rows: JobRows = (*console.events.rows.page(&console, &snap, &rows_req).await?).clone();
        let rows_key = rows_req.key(&snap);

        let base = format!("{}?list={}&", format::queue_href(&name), list.as_str());
        let here = format!("{base}page={}&size={}", req.page, req.size);
        let actions = if console.read_only {
            vec![]
        } else {
            row_actions(list)
        };
        let confirm = if console.read_only {
            None
        } else {
            query.get("confirm")
        };
        let watch = Watch::Queue {
            name: name.clone(),
            list: list.as_str().to_string(),
        };
        let live_counts = watch.counts(&snap);
        let views = crate::charts::load::views(
            &console,
            &[Kind::Throughput, Kind::Depth, Kind::Age],
            Some(&name),
            range,
        )
        .await;
        let beyond = rows.jobs.is_empty() && req.page > req.last_page(rows.total);
        let last_href = format!("{base}page={}&size={}", req.last_page(rows.total), req.size);

        Ok(view! {
            <Title text=format!("Queue {name}")/>
            <h1>"Queue " <span class="qname" data-testid="queue-name">{name.clone()}</span></h1>
            <LiveWatch watch=watch initial=live_counts here=here.clone() rows_live=true/>
            {(!console.read_only).then(|| view! { <QueueActions counts=counts.clone() here=here.clone()/> })}
            {confirm.and_then(|c| confirm_panel(&c, &counts, &here))}
            <details class="charts-section" open=true>
                <summary>"History"</summary>
                <RangeSwitch base=here.clone() current=range.to_string()/>
                <div class="charts">
                    {views.into_iter().map(|v| view! { <LiveChart view=v/> }).collect_view()}
                </div>
            </details>
            <Tabs counts=counts.clone() current=list/>
            <p class="hint"><ExportLinks path=format!("/api/v1/export{}?list={}", format::queue_href(&name), list.as_str())/></p>
            <RowForms actions=actions.clone() return_to=here.clone()/>
            {beyond.then(|| view! {
                <p class="hint">"This page is past the end. " <a href=crate::url::href(&last_href)>"Go to the last page"</a></p>
            })}
            <LiveJobs req=rows_req rows=rows key=rows_key actions=actions base=base/>
        }
        .into_any())
    })
}

#[component]
fn Tabs(counts: QueueCounts, current: JobList) -> impl IntoView {
    view! {
        <nav class="tabs" data-testid="list-tabs">
            {JobList::ALL.into_iter().map(|list| {
                let n = counts.get(list);
                view! {
                    <a
                        href=crate::url::href(&format::queue_list_href(&counts.name, list.as_str()))
                        class:current=list == current
                        aria-current=(list == current).then_some("page")
                        data-testid=format!("tab-{}", list.as_str())
                    >
                        {list.as_str()} " " <span class="count">{format::count(n)}</span>
                    </a>
                }
            }).collect_view()}
        </nav>
    }
}

/// Links to the confirmation step of the queue-wide actions (only when there is work to do
/// and the caller's role may do it).
#[component]
fn QueueActions(counts: QueueCounts, here: String) -> impl IntoView {
    let confirm_href = move |what: &str| crate::url::href(&format!("{here}&confirm={what}"));
    view! {
        <div class="queue-actions">
            {(counts.failed > 0 && may_post(RequeueQueue::PATH)).then(|| view! {
                <a class="btn" href=confirm_href("requeue-failed") data-testid="requeue-queue">
                    {format!("Requeue {} failed", format::count(counts.failed))}
                </a>
            })}
            {(counts.queued > 0 && may_post(EmptyQueue::PATH)).then(|| view! {
                <a class="btn danger" href=confirm_href("empty") data-testid="empty-queue">
                    {format!("Empty queue ({} queued)", format::count(counts.queued))}
                </a>
            })}
        </div>
    }
}

fn confirm_panel(which: &str, counts: &QueueCounts, here: &str) -> Option<AnyView> {
    let name = counts.name.clone();
    let (question, url, button, expected) = match which {
        "requeue-failed" => (
            format!(
                "Requeue {} failed jobs of {name}?",
                format::count(counts.failed)
            ),
            RequeueQueue::PATH,
            format!("Requeue {}", format::count(counts.failed)),
            counts.failed,
        ),
        "empty" => (
            format!(
                "Empty {name}? This deletes its {} queued jobs.",
                format::count(counts.queued)
            ),
            EmptyQueue::PATH,
            format!("Delete {} queued jobs", format::count(counts.queued)),
            counts.queued,
        ),
        _ => return None,
    };
    Some(
        view! {
            <ConfirmPanel
                question=question
                action_url=url
                button=button
                expected=expected
                queue=name
                return_to=here.to_string()
                cancel_href=here.to_string()
            />
        }
        .into_any(),
    )
}
