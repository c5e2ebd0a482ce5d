//! Job routes: detail, single-job actions and bulk actions over `{"ids": [...]}`.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::{Action, Outcome};

use super::ctx::{outcome, perform, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Ids, JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/jobs/{id}", get(detail))
        .route(
            "/jobs/{id}/requeue",
            post(|c, w, s| one(c, w, s, Verb::Requeue)),
        )
        .route(
            "/jobs/{id}/cancel",
            post(|c, w, s| one(c, w, s, Verb::Cancel)),
        )
        .route(
            "/jobs/{id}/delete",
            post(|c, w, s| one(c, w, s, Verb::Delete)),
        )
        .route(
            "/jobs/{id}/enqueue-now",
            post(|c, w, s| one(c, w, s, Verb::EnqueueNow)),
        )
        .route("/jobs/{id}/stop", post(stop))
        // A job may be *named* `requeue`, `cancel` or `delete`: GET still shows it.
        .route(
            "/jobs/requeue",
            post(|c, w, b| bulk(c, w, b, Verb::Requeue)).get(|c: Ctx| detail_of(c, "requeue")),
        )
        .route(
            "/jobs/cancel",
            post(|c, w, b| bulk(c, w, b, Verb::Cancel)).get(|c: Ctx| detail_of(c, "cancel")),
        )
        .route(
            "/jobs/delete",
            post(|c, w, b| bulk(c, w, b, Verb::Delete)).get(|c: Ctx| detail_of(c, "delete")),
        )
}

async fn detail(c: Ctx, Seg(id): Seg) -> ApiResult<Response> {
    detail_of(c, &id).await
}

async fn detail_of(State(c): Ctx, id: &str) -> ApiResult<Response> {
    engine::limits::validate_job_id(id)?;
    match c.backend.job(id).await? {
        Some(d) => Ok(Json(d).into_response()),
        None => Err(ApiError::not_found(format!("no job {id}"))),
    }
}

#[derive(Clone, Copy)]
enum Verb {
    Requeue,
    Cancel,
    Delete,
    EnqueueNow,
}

impl Verb {
    fn action(self, ids: Vec<String>) -> Action {
        match self {
            Verb::Requeue => Action::Requeue { ids },
            Verb::Cancel => Action::Cancel { ids },
            Verb::Delete => Action::Delete { ids },
            Verb::EnqueueNow => Action::EnqueueNow { ids },
        }
    }
}

/// One job: 404 if the engine skipped it as missing, otherwise the outcome (which may say the
/// job was skipped because it is in the wrong state).
async fn one(State(c): Ctx, Who(who): Who, Seg(id): Seg, verb: Verb) -> ApiResult<Response> {
    engine::limits::validate_job_id(&id)?;
    let done = outcome(&c, &who, verb.action(vec![id.clone()])).await?;
    if let Outcome::Jobs(o) = &done {
        if o.done.is_empty() && o.skipped.iter().any(|s| s.reason == "not_found") {
            return Err(ApiError::not_found(format!("no job {id}")));
        }
    }
    Ok(Json(done).into_response())
}

async fn bulk(
    State(c): Ctx,
    Who(who): Who,
    body: JsonBody<Ids>,
    verb: Verb,
) -> ApiResult<Response> {
    let ids = body.required()?.ids;
    perform(&c, &who, verb.action(ids)).await
}

async fn stop(State(c): Ctx, Who(who): Who, Seg(id): Seg) -> ApiResult<Response> {
    perform(&c, &who, Action::Stop { id }).await
}
