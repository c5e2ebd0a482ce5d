//! Cron routes: every registered cron scheduler (Python `rq cron` and Taskmill's) with its jobs,
//! and "run now" (`run-cron`: enqueue a cron job's job now, audited).

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::{Action, Outcome};
use engine::cron::CronOverview;

use super::ctx::{perform, Ctx};
use super::params::Name;
use crate::error::ApiResult;
use crate::extract::{Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/cron", get(list))
        .route("/cron/{name}/run", post(run))
}

/// Every registered cron scheduler (Python `rq cron` and Taskmill's) with its jobs.
#[utoipa::path(get, path = "/api/v1/cron", tag = "cron",
    responses((status = 200, body = CronOverview)))]
pub(super) async fn list(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(c.backend.cron().await?).into_response())
}

/// Enqueues the cron job's job now. Answers `{"id"}`.
#[utoipa::path(post, path = "/api/v1/cron/{name}/run", tag = "cron",
    params(Name), responses((status = 200, body = Outcome),
        (status = 409, body = crate::error::ErrorBody,
            description = "`conflict`: a scheduler enqueued it this very tick")))]
pub(super) async fn run(State(c): Ctx, Who(who): Who, Seg(name): Seg) -> ApiResult<Response> {
    perform(&c, &who, Action::RunCron { name }).await
}
