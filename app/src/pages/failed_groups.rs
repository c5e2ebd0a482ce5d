//! `/failed/groups?backend=`: failed jobs grouped by fingerprint (exception type, normalised
//! message, innermost user frame), largest first, with how fresh the index is. With
//! `--celery-broker`, Celery's failed tasks are grouped by the same code beside RQ's (a
//! Backend column; `?backend=rq|celery` keeps one system). Each group links to its page, where
//! it can be requeued or deleted (RQ) or retried (Celery) as a whole.

use engine::model::FailureGroup;
use leptos::prelude::*;
use leptos_meta::Title;

use leptos_router::hooks::use_query_map;

use crate::components::status::{async_page, console, PageError};
use crate::format;

#[component]
pub fn FailedGroupsPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let which = query.get("backend").unwrap_or_default();
        if !matches!(which.as_str(), "" | "rq" | "celery") {
            return Err(PageError::BadRequest(format!(
                "Unknown backend {which:?}: use rq or celery."
            )));
        }
        let mut groups = if which == "celery" {
            engine::model::FailureGroups {
                as_of: None,
                items: Vec::new(),
            }
        } else {
            console.backend.failure_groups().await?
        };
        let celery = console.celery.is_some();
        if let (Some(c), false) = (&console.celery, which == "rq") {
            let g = engine::celery::groups::groups(c).await?;
            if which == "celery" {
                groups.as_of = g.as_of;
            }
            groups.items.extend(g.items);
            groups.items.sort_by(|a, b| {
                b.count
                    .cmp(&a.count)
                    .then(a.backend.cmp(&b.backend))
                    .then(a.fingerprint.cmp(&b.fingerprint))
            });
        }
        let now = engine::time::now();
        let total: u64 = groups.items.iter().map(|g| g.count).sum();
        let as_of = match groups.as_of {
            Some(t) => format!(
                "as of {} ({})",
                format::ago(Some(t), now),
                format::timestamp(Some(t))
            ),
            None => "indexing: the first pass has not finished yet".to_string(),
        };
        Ok(view! {
            <Title text="Failure groups"/>
            <h1>"Failed jobs " <span class="count" data-testid="groups-total">{format::count(total)}</span></h1>
            <FailedTabs groups=true/>
            {celery.then(|| view! {
                <nav class="tabs" data-testid="backend-filter">
                    <a href=crate::url::href("/failed/groups") class:current=which.is_empty() data-testid="backend-all">"RQ and Celery"</a>
                    <a href=crate::url::href("/failed/groups?backend=rq") class:current=which == "rq" data-testid="backend-rq">"RQ"</a>
                    <a href=crate::url::href("/failed/groups?backend=celery") class:current=which == "celery" data-testid="backend-celery">"Celery"</a>
                </nav>
            })}
            <p class="as-of" data-testid="groups-as-of">{as_of}</p>
            {if groups.items.is_empty() {
                view! { <p class="empty" data-testid="no-groups">"No failure groups."</p> }.into_any()
            } else {
                view! { <GroupTable groups=groups.items now=now backend=celery/> }.into_any()
            }}
        }
        .into_any())
    })
}

/// The "All failed | Groups" tabs shared by `/failed` and `/failed/groups`.
#[component]
pub fn FailedTabs(groups: bool) -> impl IntoView {
    view! {
        <nav class="tabs" data-testid="failed-tabs">
            <a href=crate::url::href("/failed") class:current=!groups data-testid="tab-all">"All failed"</a>
            <a href=crate::url::href("/failed/groups") class:current=groups data-testid="tab-groups">"Groups"</a>
        </nav>
    }
}

/// `backend`: show the Backend column (Celery is configured).
#[component]
fn GroupTable(groups: Vec<FailureGroup>, now: f64, backend: bool) -> impl IntoView {
    view! {
        <table class="grid groups" data-testid="group-table">
            <thead><tr>
                {backend.then(|| view! { <th>"Backend"</th> })}
                <th class="num">"Count"</th>
                <th>"Exception"</th>
                <th>"Example"</th>
                <th>"Queues"</th>
                <th>"Functions"</th>
                <th>"First seen"</th>
                <th>"Last seen"</th>
                <th class="num" title="Failures in the last hour / 24 hours">"1 h / 24 h"</th>
            </tr></thead>
            <tbody>
                {groups.into_iter().map(|g| {
                    let celery = g.backend == "celery";
                    let href = if celery {
                        celery_group_href(&g.fingerprint)
                    } else {
                        group_href(&g.fingerprint)
                    };
                    let testid = if celery {
                        format!("celery-group-row-{}", g.fingerprint)
                    } else {
                        format!("group-row-{}", g.fingerprint)
                    };
                    let label = if celery { "Celery" } else { "RQ" };
                    view! {
                        <tr data-testid=testid>
                            {backend.then(|| view! { <td data-testid="group-backend">{label}</td> })}
                            <td class="num"><a href=crate::url::href(&href)>{format::count(g.count)}</a></td>
                            <td><code>{if g.exc_type.is_empty() { "—".to_string() } else { g.exc_type }}</code></td>
                            <td class="exc"><a href=crate::url::href(&href)><code>{g.example}</code></a></td>
                            <td>{g.queues.join(", ")}</td>
                            <td><code>{g.functions.join(", ")}</code></td>
                            <td title=format::timestamp(g.first_seen)>{format::ago(g.first_seen, now)}</td>
                            <td title=format::timestamp(g.last_seen)>{format::ago(g.last_seen, now)}</td>
                            <td class="num" data-testid="group-trend">{format!("{} / {}", format::count(g.last_hour), format::count(g.last_day))}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A group's page (fingerprints are hex or `undecodable`: nothing to escape in a URL).
pub fn group_href(fingerprint: &str) -> String {
    format!("/failed/groups/{}", format::url_part(fingerprint))
}

/// A Celery group's page: the same route with `?backend=celery`.
pub fn celery_group_href(fingerprint: &str) -> String {
    format!("{}?backend=celery", group_href(fingerprint))
}
