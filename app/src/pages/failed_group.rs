//! `/failed/groups/{fingerprint}?page=&size=&confirm=`: one failure group — what it is, its
//! failed jobs newest first (the shared job table, paginated), and requeue / delete of the
//! whole group, confirmed with its exact count. With `?backend=celery`, one of Celery's groups:
//! its failed tasks, and "retry all" (re-published as `celery-retry` does), confirmed the same way.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::auth::may_post;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::actions::{CeleryRetryGroup, DeleteGroup, RequeueGroup};
use crate::components::across::ExportLinks;
use crate::components::celery_rows::CeleryTaskRows;
use crate::components::forms::{ConfirmPanel, RowAction, RowForms};
use crate::components::pager::{PageReq, Pager};
use crate::components::status::{async_page, console, PageError};
use crate::components::table::{Columns, JobTable};
use crate::format;
use crate::pages::failed_groups::{celery_group_href, group_href, FailedTabs};

#[component]
pub fn FailedGroupPage() -> impl IntoView {
    let console = console();
    let fingerprint = use_params_map()
        .get_untracked()
        .get("fingerprint")
        .unwrap_or_default();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let req = PageReq::from_query(&query)?;
        if query.get("backend").as_deref() == Some("celery") {
            return celery_group(&console, &fingerprint, &query, req).await;
        }
        let Some(group) = console.backend.failure_group(&fingerprint).await? else {
            return Err(PageError::not_found(
                "No such failure group",
                format!(
                    "No failed job has the fingerprint \u{201c}{fingerprint}\u{201d} (any more)."
                ),
            ));
        };
        let page = console
            .backend
            .failure_group_jobs(&fingerprint, req.offset(), req.size)
            .await?;
        let now = engine::time::now();
        let base = group_href(&group.fingerprint);
        let here = format!("{base}?page={}&size={}", req.page, req.size);
        let read_only = console.read_only;
        let actions = if read_only {
            vec![]
        } else {
            vec![RowAction::Requeue, RowAction::Delete]
        };
        let count = group.count;
        let confirm = match (read_only, query.get("confirm").as_deref()) {
            (true, _) | (_, None) => None,
            (false, Some(which)) => {
                let (question, url, button) = match which {
                    "requeue-group" => ("Requeue", RequeueGroup::PATH, "Requeue"),
                    "delete-group" => ("Delete", DeleteGroup::PATH, "Delete"),
                    other => {
                        return Err(PageError::BadRequest(format!(
                            "Unknown confirmation {other:?}."
                        )))
                    }
                };
                Some(view! {
                    <ConfirmPanel
                        question=format!("{question} all {} failed jobs of this group?", format::count(count))
                        action_url=url
                        button=format!("{button} {}", format::count(count))
                        expected=count
                        fields=vec![("fingerprint", group.fingerprint.clone())]
                        return_to="/failed/groups".to_string()
                        cancel_href=here.clone()
                    />
                })
            }
        };
        let title = if group.exc_type.is_empty() {
            group.example.clone()
        } else {
            group.exc_type.clone()
        };
        Ok(view! {
            // The App formatter escapes every title (format::title_text): pass it raw here.
            <Title text=format!("Failure group: {title}")/>
            <h1>"Failure group " <span class="count" data-testid="group-count">{format::count(count)}</span></h1>
            <FailedTabs groups=true/>
            <section class="panel" data-testid="group-info">
                <p><code data-testid="group-example">{group.example.clone()}</code></p>
                <dl class="facts">
                    <dt>"Exception"</dt><dd><code>{group.exc_type.clone()}</code></dd>
                    <dt>"Queues"</dt><dd>{group.queues.join(", ")}</dd>
                    <dt>"Functions"</dt><dd><code>{group.functions.join(", ")}</code></dd>
                    <dt>"First seen"</dt><dd title=format::timestamp(group.first_seen)>{format::ago(group.first_seen, now)}</dd>
                    <dt>"Last seen"</dt><dd title=format::timestamp(group.last_seen)>{format::ago(group.last_seen, now)}</dd>
                    <dt>"Last hour / 24 h"</dt><dd>{format!("{} / {}", format::count(group.last_hour), format::count(group.last_day))}</dd>
                    <dt>"Fingerprint"</dt><dd><code>{group.fingerprint.clone()}</code></dd>
                </dl>
                <p class="hint"><ExportLinks path=format!("/api/v1/export{base}")/></p>
                {(!read_only && may_post(RequeueGroup::PATH)).then(|| view! {
                    <a class="btn" href=crate::url::href(&format!("{here}&confirm=requeue-group")) data-testid="requeue-group">
                        {format!("Requeue all {}", format::count(count))}
                    </a>
                    " "
                })}
                {(!read_only && may_post(DeleteGroup::PATH)).then(|| view! {
                    <a class="btn danger" href=crate::url::href(&format!("{here}&confirm=delete-group")) data-testid="delete-group">
                        {format!("Delete all {}", format::count(count))}
                    </a>
                })}
            </section>
            {confirm}
            <RowForms actions=actions.clone() return_to=here.clone()/>
            <JobTable
                jobs=page.items
                columns=Columns { origin: true, exception: true, worker: true, score: None }
                actions=actions
                now=now
            />
            <Pager base=format!("{base}?") req=req total=page.total/>
        }
        .into_any())
    })
}

/// A Celery failure group: its facts, its failed tasks (newest failure first), retry all.
async fn celery_group(
    console: &crate::state::Console,
    fingerprint: &str,
    query: &leptos_router::params::ParamsMap,
    req: PageReq,
) -> Result<AnyView, PageError> {
    let Some(c) = console.celery.clone() else {
        return Err(PageError::not_found(
            "Celery is not configured",
            "Start taskmill serve with --celery-broker to see Celery's failure groups.".to_string(),
        ));
    };
    let Some(group) = engine::celery::groups::group_info(&c, fingerprint).await? else {
        return Err(PageError::not_found(
            "No such failure group",
            format!("No failed Celery task has the fingerprint \u{201c}{fingerprint}\u{201d} (any more)."),
        ));
    };
    let page = engine::celery::groups::group_page(&c, fingerprint, req.offset(), req.size).await?;
    let now = engine::time::now();
    let base = celery_group_href(&group.fingerprint);
    let here = format!("{base}&page={}&size={}", req.page, req.size);
    let read_only = console.read_only;
    let count = group.count;
    let confirm = match (read_only, query.get("confirm").as_deref()) {
        (true, _) | (_, None) => None,
        (false, Some("celery-retry-group")) => {
            // The live count: the tasks still FAILURE, the exact set the action retries.
            let live = engine::celery::groups::live_members(&c, fingerprint)
                .await?
                .len() as u64;
            Some(view! {
                <ConfirmPanel
                    question=format!("Retry all {} failed tasks of this group?", format::count(live))
                    action_url=CeleryRetryGroup::PATH
                    button=format!("Retry {}", format::count(live))
                    expected=live
                    fields=vec![("fingerprint", group.fingerprint.clone())]
                    return_to="/failed/groups?backend=celery".to_string()
                    cancel_href=here.clone()
                />
            })
        }
        (false, Some(other)) => {
            return Err(PageError::BadRequest(format!(
                "Unknown confirmation {other:?}."
            )))
        }
    };
    let title = if group.exc_type.is_empty() {
        group.example.clone()
    } else {
        group.exc_type.clone()
    };
    Ok(view! {
        <Title text=format!("Celery failure group: {title}")/>
        <h1>"Celery failure group " <span class="count" data-testid="group-count">{format::count(count)}</span></h1>
        <FailedTabs groups=true/>
        <section class="panel" data-testid="group-info">
            <p><code data-testid="group-example">{group.example.clone()}</code></p>
            <dl class="facts">
                <dt>"Backend"</dt><dd>"Celery"</dd>
                <dt>"Exception"</dt><dd><code>{group.exc_type.clone()}</code></dd>
                <dt>"Queues"</dt><dd>{group.queues.join(", ")}</dd>
                <dt>"Tasks"</dt><dd><code>{group.functions.join(", ")}</code></dd>
                <dt>"First seen"</dt><dd title=format::timestamp(group.first_seen)>{format::ago(group.first_seen, now)}</dd>
                <dt>"Last seen"</dt><dd title=format::timestamp(group.last_seen)>{format::ago(group.last_seen, now)}</dd>
                <dt>"Last hour / 24 h"</dt><dd>{format!("{} / {}", format::count(group.last_hour), format::count(group.last_day))}</dd>
                <dt>"Fingerprint"</dt><dd><code>{group.fingerprint.clone()}</code></dd>
            </dl>
            {(!read_only && may_post(CeleryRetryGroup::PATH)).then(|| view! {
                <a class="btn" href=crate::url::href(&format!("{here}&confirm=celery-retry-group")) data-testid="celery-retry-group">
                    {format!("Retry all {}", format::count(count))}
                </a>
            })}
        </section>
        {confirm}
        <CeleryTaskRows tasks=page.items testid="celery-group-tasks"/>
        <Pager base=format!("{base}&") req=req total=page.total/>
    }
    .into_any())
}
