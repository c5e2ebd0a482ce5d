//! Read routes: overview, queues, one queue's lists, failed across queues, audit.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use engine::model::{AuditEntry, JobList, JobSummary, Page, QueueCounts, Snapshot};
use serde::Serialize;

use super::ctx::Ctx;
use super::params::{ListQuery, QueueName, Window};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, Seg};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/overview", get(overview))
        .route("/queues", get(queues))
        .route("/queues/{name}", get(queue_page))
        .route("/failed", get(failed))
        .route("/audit", get(audit))
}

/// Everything the overview shows: queues, workers, totals, Redis (one cached snapshot).
#[utoipa::path(get, path = "/api/v1/overview", tag = "reads",
    responses((status = 200, body = Snapshot)))]
pub(super) async fn overview(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&*c.snapshot().await?).into_response())
}

/// Every queue's counts.
#[utoipa::path(get, path = "/api/v1/queues", tag = "reads",
    responses((status = 200, body = Vec<QueueCounts>)))]
pub(super) async fn queues(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&c.snapshot().await?.queues).into_response())
}

/// Counts for one queue from the shared snapshot (re-read once if the queue is newer than it).
async fn counts(c: &Arc<Console>, name: &str) -> ApiResult<QueueCounts> {
    let find = |s: &engine::model::Snapshot| s.queues.iter().find(|q| q.name == name).cloned();
    if let Some(q) = find(&*c.snapshot().await?) {
        return Ok(q);
    }
    c.invalidate().await;
    Ok(find(&*c.snapshot().await?).unwrap_or_else(|| QueueCounts {
        name: name.to_string(),
        ..QueueCounts::default()
    }))
}

/// `GET /queues/{name}`: the queue's counts and one page of one of its lists.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct QueuePage {
    counts: QueueCounts,
    page: Page<JobSummary>,
}

/// One queue: its counts and a page of one of its lists.
#[utoipa::path(get, path = "/api/v1/queues/{name}", tag = "reads",
    params(QueueName, ListQuery, Window),
    responses((status = 200, body = QueuePage)))]
pub(super) async fn queue_page(State(c): Ctx, Seg(name): Seg, p: Params) -> ApiResult<Response> {
    let list = match p.0.get("list").map(String::as_str) {
        None | Some("") => JobList::Queued,
        Some(s) => JobList::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "list must be one of queued, started, finished, failed, deferred, scheduled, canceled",
            )
        })?,
    };
    let (offset, limit) = p.window()?;
    engine::limits::validate_queue_name(&name)?;
    if !c.backend.queue_exists(&name).await? {
        return Err(ApiError::not_found(format!("no queue named {name:?}")));
    }
    let page = c.backend.jobs(&name, list, offset, limit).await?;
    let counts = counts(&c, &name).await?;
    Ok(Json(QueuePage { counts, page }).into_response())
}

/// Failed jobs across queues, newest first.
#[utoipa::path(get, path = "/api/v1/failed", tag = "reads",
    params(Window), responses((status = 200, body = Page<JobSummary>)))]
pub(super) async fn failed(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    Ok(Json(c.backend.failed(None, offset, limit).await?).into_response())
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "reads",
    params(Window), responses((status = 200, body = Page<AuditEntry>)))]
pub(super) async fn audit(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    Ok(Json(c.backend.audit(offset, limit).await?).into_response())
}
