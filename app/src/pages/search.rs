//! `/search?q=&cursor=&confirm=`: search jobs by what they were called with, what they said and
//! where they are (`engine::search`). An existing job's id goes straight to its page (302); a
//! text search shows one bounded page of matches, how many jobs were examined so far and a
//! "more" link carrying the cursor; the matches can be requeued, deleted or canceled in bulk,
//! confirmed with their exact count. A bad query is a 400 with the reason, next to the form.
//! With `--celery-broker`, Celery's task records are searched by the same query (`name:`,
//! `state:`, `worker:`, `exc:`, words and phrases; `backend:rq|celery` keeps one system) in a
//! section of their own with their own cursor (`celery_cursor`); a Celery task's id goes to its page.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::auth::may_post;
use leptos_router::hooks::use_query_map;

use crate::actions::{CancelSearch, DeleteSearch, RequeueSearch};
use crate::components::celery_rows::{task_href, CeleryTaskRows};
use crate::components::forms::ConfirmPanel;
use crate::components::status::{async_page, console, set_status, PageError};
use crate::components::table::{Columns, JobTable};
use crate::format;

/// Page size of the console's search.
const PAGE: u64 = 25;

/// `/search?q=...`.
pub fn search_href(q: &str) -> String {
    format!("/search?q={}", format::url_part(q))
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    let q = query.get("q").unwrap_or_default();
    let cursor = query.get("cursor").filter(|c| !c.is_empty());
    let celery_cursor = query.get("celery_cursor").filter(|c| !c.is_empty());
    let confirm = query.get("confirm");
    async_page(async move {
        if q.trim().is_empty() {
            return Ok(view! {
                <Title text="Search"/>
                <h1>"Search"</h1>
                <SearchForm q=String::new()/>
                <Help/>
            }
            .into_any());
        }
        // A first page searches both systems; a "more" link continues the one it belongs to.
        let first = cursor.is_none() && celery_cursor.is_none();
        let rq_search = async {
            if first || cursor.is_some() {
                console
                    .backend
                    .search(&q, cursor.as_deref(), PAGE)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let celery_search = async {
            match &console.celery {
                Some(c) if first || celery_cursor.is_some() => {
                    engine::celery::search::search(c, &q, celery_cursor.as_deref(), PAGE)
                        .await
                        .map(Some)
                }
                _ => Ok(None),
            }
        };
        let both = match rq_search.await {
            Ok(rq) => celery_search.await.map(|cel| (rq, cel)),
            Err(e) => Err(e),
        };
        let (page, celery_page) = match both {
            Ok((rq, cel)) => (rq, cel),
            Err(e) => {
                let err = PageError::from(e);
                if !matches!(err, PageError::BadRequest(_)) {
                    return Err(err);
                }
                set_status(err.status());
                return Ok(view! {
                    <Title text="Search"/>
                    <h1>"Search"</h1>
                    <SearchForm q=q.clone()/>
                    <p class="flash err" role="alert" data-testid="search-error">{err.message()}</p>
                    <Help/>
                }
                .into_any());
            }
        };
        if let Some(id) = page.as_ref().and_then(|p| p.exact.as_ref()) {
            // A real redirect: the job page is where an id leads. The link is for clients that
            // do not follow it.
            redirect(&crate::url::href(&format::job_href(id)));
            return Ok(view! {
                <p>"Job " <a href=crate::url::href(&format::job_href(id)) data-testid="exact-link">{id.clone()}</a></p>
            }
            .into_any());
        }
        if let Some(id) = celery_page.as_ref().and_then(|p| p.exact.as_ref()) {
            redirect(&crate::url::href(&task_href(id)));
            return Ok(view! {
                <p>"Celery task " <a href=crate::url::href(&task_href(id)) data-testid="exact-link">{id.clone()}</a></p>
            }
            .into_any());
        }
        let celery_section = celery_page.map(|p| celery_view(p, &search_href(&q)));
        let searched_rq = page.is_some();
        let page = page.unwrap_or(engine::model::SearchPage {
            items: Vec::new(),
            cursor: None,
            scanned: 0,
            exact: None,
        });
        let here = search_href(&q);
        let read_only = console.read_only;
        let confirm_panel = match (read_only, confirm.as_deref()) {
            (true, _) | (_, None) => None,
            (false, Some(which)) => Some(confirm_view(&console, &q, which, &here).await?),
        };
        let scanned = page.scanned;
        let more = page
            .cursor
            .as_ref()
            .map(|c| format!("{here}&cursor={}", format::url_part(c)));
        let progress = if more.is_some() {
            format!("Searched {} jobs so far.", format::count(scanned))
        } else {
            format!(
                "Searched {} jobs: the whole search.",
                format::count(scanned)
            )
        };
        let empty = page.items.is_empty();
        let complete = page.cursor.is_none();
        let items = page.items;
        // Nothing to act on: a first page that found nothing and searched everything.
        let nothing = empty && cursor.is_none() && complete;
        let now = engine::time::now();
        Ok(view! {
            <Title text=format!("Search: {q}")/>
            <h1>"Search"</h1>
            <SearchForm q=q.clone()/>
            {searched_rq.then(|| view! { <p class="muted" data-testid="search-scanned">{progress}</p> })}
            {(empty && more.is_some()).then(|| view! {
                <p class="empty" data-testid="search-none-yet">
                    "No matches in the jobs searched so far; follow \u{201c}more\u{201d} to search further."
                </p>
            })}
            {(searched_rq && empty && more.is_none()).then(|| view! {
                <p class="empty" data-testid="search-empty">"No job matches this search."</p>
            })}
            {(!empty).then(|| view! {
                <JobTable
                    jobs=items
                    columns=Columns { origin: true, exception: true, worker: true, score: None }
                    actions=vec![]
                    now=now
                />
            })}
            {more.map(|href| view! {
                <p><a class="btn" href=crate::url::href(&href) data-testid="search-more">"More \u{2192}"</a></p>
            })}
            {celery_section}
            {confirm_panel}
            {(searched_rq && !read_only && !nothing && may_post(RequeueSearch::PATH)).then(|| view! {
                <section class="panel" data-testid="search-bulk">
                    <p>"Act on every job this search matches (the count is confirmed first):"</p>
                    {may_post(RequeueSearch::PATH).then(|| view! {
                        <a class="btn" href=crate::url::href(&format!("{here}&confirm=requeue-search")) data-testid="requeue-search">"Requeue matches…"</a>
                        " "
                    })}
                    {may_post(CancelSearch::PATH).then(|| view! {
                        <a class="btn danger" href=crate::url::href(&format!("{here}&confirm=cancel-search")) data-testid="cancel-search">"Cancel matches…"</a>
                        " "
                    })}
                    {may_post(DeleteSearch::PATH).then(|| view! {
                        <a class="btn danger" href=crate::url::href(&format!("{here}&confirm=delete-search")) data-testid="delete-search">"Delete matches…"</a>
                    })}
                </section>
            })}
        }
        .into_any())
    })
}

/// Celery's section: its matches, how far it got, its own "more" link.
fn celery_view(p: engine::celery::types::CelerySearchPage, here: &str) -> AnyView {
    let more = p
        .cursor
        .as_ref()
        .map(|c| format!("{here}&celery_cursor={}", format::url_part(c)));
    let progress = if more.is_some() {
        format!("Searched {} Celery tasks so far.", format::count(p.scanned))
    } else {
        format!(
            "Searched {} Celery tasks: the whole search.",
            format::count(p.scanned)
        )
    };
    let empty = p.items.is_empty();
    view! {
        <section data-testid="celery-search">
            <h2>"Celery tasks"</h2>
            <p class="muted" data-testid="celery-search-scanned">{progress}</p>
            {empty.then(|| view! { <p class="empty" data-testid="celery-search-empty">"No Celery task matches so far."</p> })}
            {(!empty).then(|| view! { <CeleryTaskRows tasks=p.items testid="celery-search-results"/> })}
            {more.map(|href| view! {
                <p><a class="btn" href=crate::url::href(&href) data-testid="celery-search-more">"More Celery tasks \u{2192}"</a></p>
            })}
        </section>
    }
    .into_any()
}

/// The confirmation step: the search runs to its end (under the bulk cap) for the exact count.
async fn confirm_view(
    console: &crate::state::Console,
    q: &str,
    which: &str,
    here: &str,
) -> Result<AnyView, PageError> {
    let (verb, url, note) = match which {
        "requeue-search" => (
            "Requeue",
            RequeueSearch::PATH,
            " Only failed ones are requeued.",
        ),
        "cancel-search" => (
            "Cancel",
            CancelSearch::PATH,
            " Only queued, deferred and scheduled ones are canceled.",
        ),
        "delete-search" => ("Delete", DeleteSearch::PATH, ""),
        other => {
            return Err(PageError::BadRequest(format!(
                "Unknown confirmation {other:?}."
            )))
        }
    };
    let count = match console.backend.search_count(q).await {
        Ok(n) => n,
        Err(e) => {
            let err = PageError::from(e);
            return Ok(view! {
                <p class="flash err" role="alert" data-testid="search-error">{err.message()}</p>
            }
            .into_any());
        }
    };
    Ok(view! {
        <ConfirmPanel
            question=format!("{verb} the {} jobs matching this search?{note}", format::count(count))
            action_url=url
            button=format!("{verb} {}", format::count(count))
            expected=count
            fields=vec![("q", q.to_string())]
            return_to=here.to_string()
            cancel_href=here.to_string()
        />
    }
    .into_any())
}

/// The page's own search box (the header has one too).
#[component]
fn SearchForm(q: String) -> impl IntoView {
    view! {
        <form class="search-page" method="get" action=crate::url::href("/search") role="search">
            <input type="search" name="q" value=q aria-label="Search jobs" data-testid="search-page-input"
                placeholder="words, \"a phrase\", queue:default status:failed func:tasks.send exc:Timeout"/>
            " "
            <button type="submit" class="btn">"Search"</button>
        </form>
    }
}

#[component]
fn Help() -> impl IntoView {
    view! {
        <section class="panel" data-testid="search-help">
            <p>"Find jobs by a job id (goes straight to the job), or by words in the function name, \
                arguments, description, exception and meta (all words must match, any case). \
                Quote a phrase: \"order 42\"."</p>
            <p>"Filters: " <code>"queue:name"</code> ", " <code>"status:failed"</code> ", "
                <code>"func:tasks.send"</code> ", " <code>"worker:host"</code> ", "
                <code>"exc:TimeoutError"</code> ". " <code>"queue:"</code> " and "
                <code>"status:"</code> " search only those lists, which is fastest."</p>
            <p>"Celery tasks (with --celery-broker): " <code>"name:tasks.add"</code> ", "
                <code>"state:FAILURE"</code> ", " <code>"worker:"</code> ", " <code>"exc:"</code>
                " and words in args, kwargs, result and traceback; " <code>"backend:rq"</code>
                " or " <code>"backend:celery"</code> " searches one system only."</p>
        </section>
    }
}

/// 302 to `to` for every client (leptos_axum's own `redirect` sets the status only for
/// requests that accept HTML).
fn redirect(to: &str) {
    use axum::http::{header, HeaderValue, StatusCode};
    if let (Some(res), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(to),
    ) {
        res.insert_header(header::LOCATION, v);
        res.set_status(StatusCode::FOUND);
    }
}
