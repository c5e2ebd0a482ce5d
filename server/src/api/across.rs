//! Registries across queues: scheduled (soonest first), deferred (newest first, each with what
//! it waits on), canceled (newest first) — the JSON mirror of `/scheduled`, `/deferred`,
//! `/canceled`.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use engine::model::{DeferredJob, JobList, JobSummary, Page};

use super::ctx::Ctx;
use super::params::Window;
use crate::error::ApiResult;
use crate::extract::Params;

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/scheduled", get(scheduled))
        .route("/deferred", get(deferred))
        .route("/canceled", get(canceled))
}

/// Scheduled jobs across queues, soonest first.
#[utoipa::path(get, path = "/api/v1/scheduled", tag = "reads",
    params(Window), responses((status = 200, body = Page<JobSummary>)))]
pub(super) async fn scheduled(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    let page = c
        .backend
        .across(JobList::Scheduled, None, offset, limit)
        .await?;
    Ok(Json(page).into_response())
}

/// Deferred jobs across queues, newest first, each with what it waits on.
#[utoipa::path(get, path = "/api/v1/deferred", tag = "reads",
    params(Window), responses((status = 200, body = Page<DeferredJob>)))]
pub(super) async fn deferred(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    let page = c
        .backend
        .across(JobList::Deferred, None, offset, limit)
        .await?;
    Ok(Json(c.backend.with_dependencies(page).await?).into_response())
}

/// Canceled jobs across queues, newest first.
#[utoipa::path(get, path = "/api/v1/canceled", tag = "reads",
    params(Window), responses((status = 200, body = Page<JobSummary>)))]
pub(super) async fn canceled(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    let page = c
        .backend
        .across(JobList::Canceled, None, offset, limit)
        .await?;
    Ok(Json(page).into_response())
}
