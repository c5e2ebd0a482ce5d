//! Cron routes: every registered cron scheduler (Python `rq cron` and Taskmill's) with its jobs,
//! and "run now" (`run-cron`: enqueue a cron job's job now, audited).

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::Action;

use super::ctx::{perform, Ctx};
use crate::error::ApiResult;
use crate::extract::{Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/cron", get(list))
        .route("/cron/{name}/run", post(run))
}

async fn list(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(c.backend.cron().await?).into_response())
}

async fn run(State(c): Ctx, Who(who): Who, Seg(name): Seg) -> ApiResult<Response> {
    perform(&c, &who, Action::RunCron { name }).await
}
