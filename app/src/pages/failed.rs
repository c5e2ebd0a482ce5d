//! `/failed?page=&size=&confirm=&queue=`: failed jobs across all queues, newest first, with
//! per-row and selection actions, per-queue requeue and the global requeue-all. The rows and
//! pager are `rows::LiveJobs` (live once hydrated).

use engine::model::{JobList, QueueCounts};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::auth::may_post;
use leptos_router::hooks::use_query_map;

use crate::actions::{RequeueAll, RequeueQueue};
use crate::components::across::ExportLinks;
use crate::components::forms::{ConfirmPanel, RowAction, RowForms};
use crate::components::pager::PageReq;
use crate::components::status::{async_page, console, PageError};
use crate::format;
use crate::pages::failed_groups::FailedTabs;
use crate::rows::{LiveJobs, RowsReq};
use crate::watch::{LiveWatch, Watch};

#[component]
pub fn FailedPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let req = PageReq::from_query(&query)?;
        let snap = console.snapshot().await?;
        let rows_req = RowsReq {
            queue: None,
            list: JobList::Failed.as_str().to_string(),
            page: req.page,
            size: req.size,
        };
        // Shared with every request for the same rows within a feed tick (reset by actions).
        let rows = (*console.events.rows.page(&console, &snap, &rows_req).await?).clone();
        let rows_key = rows_req.key(&snap);
        let here = format!("/failed?page={}&size={}", req.page, req.size);
        let total: u64 = snap.queues.iter().map(|q| q.failed).sum();
        let failing: Vec<QueueCounts> = snap
            .queues
            .iter()
            .filter(|q| q.failed > 0)
            .cloned()
            .collect();
        let actions = if console.read_only {
            vec![]
        } else {
            vec![RowAction::Requeue, RowAction::Delete]
        };
        let confirm = if console.read_only {
            None
        } else {
            confirm_panel(
                query.get("confirm").as_deref(),
                query.get("queue"),
                total,
                &failing,
                &here,
            )?
        };
        let read_only = console.read_only;
        let live_counts = Watch::Failed.counts(&snap);
        Ok(view! {
            <Title text="Failed jobs"/>
            <h1>"Failed jobs " <span class="count" data-testid="failed-total">{format::count(total)}</span></h1>
            <LiveWatch watch=Watch::Failed initial=live_counts here=here.clone() rows_live=true/>
            <FailedTabs groups=false/>
            <p class="hint"><ExportLinks path="/api/v1/export/failed".to_string()/></p>
            {confirm}
            {(!failing.is_empty()).then(|| view! {
                <PerQueue failing=failing.clone() here=here.clone() total=total read_only=read_only/>
            })}
            <RowForms actions=actions.clone() return_to=here.clone()/>
            <LiveJobs req=rows_req rows=rows key=rows_key actions=actions base="/failed?".to_string()/>
        }
        .into_any())
    })
}

#[component]
fn PerQueue(failing: Vec<QueueCounts>, here: String, total: u64, read_only: bool) -> impl IntoView {
    view! {
        <section class="per-queue">
            <table class="grid narrow" data-testid="failed-per-queue">
                <thead><tr><th>"Queue"</th><th class="num">"Failed"</th><th></th></tr></thead>
                <tbody>
                    {failing.into_iter().map(|q| {
                        let href = format!(
                            "{here}&confirm=requeue-queue&queue={}",
                            format::url_part(&q.name)
                        );
                        view! {
                            <tr>
                                <td><a href=crate::url::href(&format::queue_list_href(&q.name, JobList::Failed.as_str()))>{q.name.clone()}</a></td>
                                <td class="num">{format::count(q.failed)}</td>
                                <td>{(!read_only && may_post(RequeueQueue::PATH)).then(|| view! {
                                    <a class="btn small" href=crate::url::href(&href) data-testid=format!("requeue-queue-{}", format::dom_id(&q.name))>
                                        "Requeue these"
                                    </a>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {(!read_only && may_post(RequeueAll::PATH)).then(|| view! {
                <a class="btn" href=crate::url::href(&format!("{here}&confirm=requeue-all")) data-testid="requeue-all">
                    {format!("Requeue all {} failed jobs", format::count(total))}
                </a>
            })}
        </section>
    }
}

fn confirm_panel(
    which: Option<&str>,
    queue: Option<String>,
    total: u64,
    failing: &[QueueCounts],
    here: &str,
) -> Result<Option<AnyView>, PageError> {
    let view = match which {
        None => return Ok(None),
        Some("requeue-all") => view! {
            <ConfirmPanel
                question=format!("Requeue {} failed jobs across all queues?", format::count(total))
                action_url=RequeueAll::PATH
                button=format!("Requeue {}", format::count(total))
                expected=total
                return_to=here.to_string()
                cancel_href=here.to_string()
            />
        }
        .into_any(),
        Some("requeue-queue") => {
            let name = queue.unwrap_or_default();
            let Some(q) = failing.iter().find(|q| q.name == name) else {
                return Err(PageError::not_found(
                    "No failed jobs there",
                    format!("Queue \u{201c}{name}\u{201d} has no failed jobs (or does not exist)."),
                ));
            };
            view! {
                <ConfirmPanel
                    question=format!("Requeue {} failed jobs of {}?", format::count(q.failed), q.name)
                    action_url=RequeueQueue::PATH
                    button=format!("Requeue {}", format::count(q.failed))
                    expected=q.failed
                    queue=q.name.clone()
                    return_to=here.to_string()
                    cancel_href=here.to_string()
                />
            }
            .into_any()
        }
        Some(other) => {
            return Err(PageError::BadRequest(format!(
                "Unknown confirmation {other:?}."
            )))
        }
    };
    Ok(Some(view))
}
