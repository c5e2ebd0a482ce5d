//! Limits and chords: `GET /limits` (each limit with its current use), `POST /groups` (create a
//! chord: an RQ group plus a callback — Python code can call it with a plain HTTP request),
//! `GET /groups/{name}` (progress). Creation is the `create-chord` action.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::Action;

use super::ctx::{outcome, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/limits", get(limits))
        .route("/groups", post(create))
        .route("/groups/{name}", get(show))
}

async fn limits(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(c.backend.limits().await?).into_response())
}

async fn create(
    State(c): Ctx,
    Who(who): Who,
    body: JsonBody<engine::chord::NewChord>,
) -> ApiResult<Response> {
    let chord = body.required()?;
    let out = outcome(
        &c,
        &who,
        Action::CreateChord {
            chord: Box::new(chord),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn show(State(c): Ctx, Seg(name): Seg) -> ApiResult<Response> {
    match c.backend.chord(&name).await? {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(ApiError::not_found(format!("no group named {name:?}"))),
    }
}
