//! Worker routes (list, shutdown, kill-horse, scale) and suspend / resume.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::{Action, Outcome};
use engine::model::WorkerInfo;
use serde::Deserialize;

use super::ctx::{perform, Ctx};
use super::params::WorkerName;
use crate::error::ApiResult;
use crate::extract::{JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/workers", get(list))
        .route("/workers/{name}/shutdown", post(shutdown))
        .route("/workers/{name}/kill-horse", post(kill_horse))
        .route("/workers/{name}/scale", post(scale))
        .route("/suspend", post(suspend))
        .route("/resume", post(resume))
}

/// Every RQ worker (Taskmill's slots and Python's), from the shared snapshot.
#[utoipa::path(get, path = "/api/v1/workers", tag = "workers",
    responses((status = 200, body = Vec<WorkerInfo>)))]
pub(super) async fn list(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&c.snapshot().await?.workers).into_response())
}

/// Sends RQ's `shutdown` command to the worker. Answers `{"receivers"}`.
#[utoipa::path(post, path = "/api/v1/workers/{name}/shutdown", tag = "workers",
    params(WorkerName), responses((status = 200, body = Outcome)))]
pub(super) async fn shutdown(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
) -> ApiResult<Response> {
    perform(&c, &who, Action::Shutdown { worker }).await
}

/// Sends RQ's `kill-horse` command to the worker. Answers `{"receivers"}`.
#[utoipa::path(post, path = "/api/v1/workers/{name}/kill-horse", tag = "workers",
    params(WorkerName), responses((status = 200, body = Outcome)))]
pub(super) async fn kill_horse(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
) -> ApiResult<Response> {
    perform(&c, &who, Action::KillHorse { worker }).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Scale {
    /// The pool's new slot count, 1 to 256.
    #[schema(minimum = 1, maximum = 256)]
    slots: u64,
}

/// Sets the slot count of the Taskmill pool this worker belongs to. Answers `{"receivers"}`.
#[utoipa::path(post, path = "/api/v1/workers/{name}/scale", tag = "workers",
    params(WorkerName), request_body = Scale, responses((status = 200, body = Outcome),
        (status = 409, body = crate::error::ErrorBody,
            description = "`conflict`: not a Taskmill pool's worker, or a Python pool's child")))]
pub(super) async fn scale(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
    body: JsonBody<Scale>,
) -> ApiResult<Response> {
    let slots = body.required()?.slots;
    perform(&c, &who, Action::Scale { worker, slots }).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Suspend {
    /// Seconds; until resumed when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 31536000)]
    duration: Option<u64>,
}

/// Suspends every worker (RQ's `rq:suspended`). Answers `{"suspended": true}`.
#[utoipa::path(post, path = "/api/v1/suspend", tag = "workers",
    request_body = Option<Suspend>, responses((status = 200, body = Outcome)))]
pub(super) async fn suspend(
    State(c): Ctx,
    Who(who): Who,
    body: JsonBody<Suspend>,
) -> ApiResult<Response> {
    let secs = body.0.and_then(|s| s.duration);
    perform(&c, &who, Action::Suspend { secs }).await
}

/// Resumes the workers. Answers `{"suspended": false}`.
#[utoipa::path(post, path = "/api/v1/resume", tag = "workers",
    responses((status = 200, body = Outcome)))]
pub(super) async fn resume(State(c): Ctx, Who(who): Who) -> ApiResult<Response> {
    perform(&c, &who, Action::Resume).await
}
