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
use engine::actions::{Action, Outcome};
use engine::chord::{ChordView, NewChord};
use engine::throttle::LimitUse;

use super::ctx::{outcome, Ctx};
use super::params::Name;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/limits", get(limits))
        .route("/groups", post(create))
        .route("/groups/{name}", get(show))
}

/// Each concurrency / rate limit with its current use.
#[utoipa::path(get, path = "/api/v1/limits", tag = "chords",
    responses((status = 200, body = Vec<LimitUse>)))]
pub(super) async fn limits(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(c.backend.limits().await?).into_response())
}

/// Creates a chord: an RQ group of jobs plus a callback enqueued when they have all ended.
#[utoipa::path(post, path = "/api/v1/groups", tag = "chords",
    request_body = NewChord, responses((status = 201, body = Outcome),
        (status = 409, body = crate::error::ErrorBody,
            description = "`conflict`: a group of this name exists, or a job is in another")))]
pub(super) async fn create(
    State(c): Ctx,
    Who(who): Who,
    body: JsonBody<NewChord>,
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

/// One chord and its progress.
#[utoipa::path(get, path = "/api/v1/groups/{name}", tag = "chords",
    params(Name), responses((status = 200, body = ChordView)))]
pub(super) async fn show(State(c): Ctx, Seg(name): Seg) -> ApiResult<Response> {
    match c.backend.chord(&name).await? {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(ApiError::not_found(format!("no group named {name:?}"))),
    }
}
