//! Search: `GET /search?q=&cursor=&limit=` (one bounded page, a cursor to continue, how many
//! jobs were examined) and the bulk actions on the matches, `POST /search/{requeue,delete,
//! cancel}?q=` with `{"expected": N}` (409 `conflict` unless the search matches exactly N now)
//! and `?dry_run=1` (the count, nothing changed), as the failure-group actions do.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::Action;
use engine::celery::types::CelerySearchPage;
use engine::model::SearchPage;
use serde::Serialize;

use super::ctx::{expected, perform, Acted, Confirm, Ctx, DryRunCount};
use super::params::{DryRunQuery, SearchQuery, SearchTarget};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{JsonBody, Params, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/search", get(search))
        .route("/search/requeue", post(requeue))
        .route("/search/delete", post(delete))
        .route("/search/cancel", post(cancel))
}

/// Default page size of a search (`limit`, 1..=`engine::limits::MAX_SEARCH_LIMIT`).
const DEFAULT_LIMIT: u64 = 25;

fn query(p: &Params) -> ApiResult<String> {
    p.0.get("q")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("q is required: the search query"))
}

/// One page of search results: RQ's page (flat) and, with `--celery-broker`, Celery's under
/// `celery` (absent when Celery is off or this continuation is RQ's only).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct SearchResults {
    #[serde(flatten)]
    rq: SearchPage,
    #[serde(skip_serializing_if = "Option::is_none")]
    celery: Option<CelerySearchPage>,
}

/// Searches jobs (and Celery tasks): one bounded page, a cursor to continue.
#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(SearchQuery), responses((status = 200, body = SearchResults)))]
pub(super) async fn search(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let q = query(&p)?;
    let limit = match p.0.get("limit").map(String::as_str) {
        None | Some("") => DEFAULT_LIMIT,
        Some(v) => v.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "limit must be between 1 and {}",
                engine::limits::MAX_SEARCH_LIMIT
            ))
        })?,
    };
    let cursor =
        p.0.get("cursor")
            .map(String::as_str)
            .filter(|s| !s.is_empty());
    let celery_cursor =
        p.0.get("celery_cursor")
            .map(String::as_str)
            .filter(|s| !s.is_empty());
    // A first page searches both systems; a continuation only the one(s) whose cursor it got.
    let first = cursor.is_none() && celery_cursor.is_none();
    let rq = if first || cursor.is_some() {
        c.backend.search(&q, cursor, limit).await?
    } else {
        SearchPage {
            items: Vec::new(),
            cursor: None,
            scanned: 0,
            exact: None,
        }
    };
    let mut celery = None;
    if let Some(cel) = &c.celery {
        if first || celery_cursor.is_some() {
            celery = Some(engine::celery::search::search(cel, &q, celery_cursor, limit).await?);
        }
    }
    Ok(Json(SearchResults { rq, celery }).into_response())
}

#[derive(Clone, Copy)]
enum Verb {
    Requeue,
    Delete,
    Cancel,
}

/// Requeues every job the search matches (at most 10,000).
#[utoipa::path(post, path = "/api/v1/search/requeue", tag = "search",
    params(SearchTarget, DryRunQuery), request_body = Option<Confirm>,
    responses((status = 200, body = Acted), (status = 409, body = ErrorBody,
        description = "`conflict`: the search does not match exactly `expected` jobs now")))]
pub(super) async fn requeue(
    c: Ctx,
    who: Who,
    p: Params,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    act(c, who, p, body, Verb::Requeue).await
}

/// Deletes every job the search matches (at most 10,000).
#[utoipa::path(post, path = "/api/v1/search/delete", tag = "search",
    params(SearchTarget, DryRunQuery), request_body = Option<Confirm>,
    responses((status = 200, body = Acted), (status = 409, body = ErrorBody,
        description = "`conflict`: the search does not match exactly `expected` jobs now")))]
pub(super) async fn delete(
    c: Ctx,
    who: Who,
    p: Params,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    act(c, who, p, body, Verb::Delete).await
}

/// Cancels every job the search matches (at most 10,000).
#[utoipa::path(post, path = "/api/v1/search/cancel", tag = "search",
    params(SearchTarget, DryRunQuery), request_body = Option<Confirm>,
    responses((status = 200, body = Acted), (status = 409, body = ErrorBody,
        description = "`conflict`: the search does not match exactly `expected` jobs now")))]
pub(super) async fn cancel(
    c: Ctx,
    who: Who,
    p: Params,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    act(c, who, p, body, Verb::Cancel).await
}

async fn act(
    State(c): Ctx,
    Who(who): Who,
    p: Params,
    body: JsonBody<Confirm>,
    verb: Verb,
) -> ApiResult<Response> {
    let q = query(&p)?;
    let expected = expected(body);
    let dry_run = match p.0.get("dry_run").map(String::as_str) {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return Err(ApiError::bad_request("dry_run must be 1 or 0")),
    };
    if dry_run {
        // A read: nothing changes and nothing is audited; a stale `expected` is still a 409.
        let count = c.backend.search_count(&q).await?;
        if let Some(e) = expected.filter(|e| *e != count) {
            return Err(engine::Error::Conflict(format!(
                "The number of jobs matching this search changed from {e} to {count}"
            ))
            .into());
        }
        return Ok(DryRunCount::response(count));
    }
    let query = q;
    let action = match verb {
        Verb::Requeue => Action::RequeueSearch { query, expected },
        Verb::Delete => Action::DeleteSearch { query, expected },
        Verb::Cancel => Action::CancelSearch { query, expected },
    };
    perform(&c, &who, action).await
}
