//! `/failed/groups/{fingerprint}?page=&size=&confirm=`: one failure group — what it is, its
//! failed jobs newest first (the shared job table, paginated), and requeue / delete of the
//! whole group, confirmed with its exact count.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::actions::{DeleteGroup, RequeueGroup};
use crate::components::across::ExportLinks;
use crate::components::forms::{ConfirmPanel, RowAction, RowForms};
use crate::components::pager::{PageReq, Pager};
use crate::components::status::{async_page, console, PageError};
use crate::components::table::{Columns, JobTable};
use crate::format;
use crate::pages::failed_groups::{group_href, FailedTabs};

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
                {(!read_only).then(|| view! {
                    <a class="btn" href=format!("{here}&confirm=requeue-group") data-testid="requeue-group">
                        {format!("Requeue all {}", format::count(count))}
                    </a>
                    " "
                    <a class="btn danger" href=format!("{here}&confirm=delete-group") data-testid="delete-group">
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
