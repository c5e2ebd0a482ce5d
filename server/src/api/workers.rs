//! Worker routes (list, shutdown, kill-horse, scale) and suspend / resume.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::Action;
use serde::Deserialize;

use super::ctx::{perform, Ctx};
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

async fn list(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&c.snapshot().await?.workers).into_response())
}

async fn shutdown(State(c): Ctx, Who(who): Who, Seg(worker): Seg) -> ApiResult<Response> {
    perform(&c, &who, Action::Shutdown { worker }).await
}

async fn kill_horse(State(c): Ctx, Who(who): Who, Seg(worker): Seg) -> ApiResult<Response> {
    perform(&c, &who, Action::KillHorse { worker }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scale {
    slots: u64,
}

async fn scale(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
    body: JsonBody<Scale>,
) -> ApiResult<Response> {
    let slots = body.required()?.slots;
    perform(&c, &who, Action::Scale { worker, slots }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suspend {
    #[serde(default)]
    duration: Option<u64>,
}

async fn suspend(State(c): Ctx, Who(who): Who, body: JsonBody<Suspend>) -> ApiResult<Response> {
    let secs = body.0.and_then(|s| s.duration);
    perform(&c, &who, Action::Suspend { secs }).await
}

async fn resume(State(c): Ctx, Who(who): Who) -> ApiResult<Response> {
    perform(&c, &who, Action::Resume).await
}
