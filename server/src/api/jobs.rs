//! Job routes: detail, single-job actions and bulk actions over `{"ids": [...]}`.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::stop::StopOutcome;
use engine::actions::{Action, JobsOutcome, Outcome};
use engine::model::JobDetail;

use super::ctx::{outcome, perform, Ctx};
use super::params::JobId;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Ids, JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/jobs/{id}", get(detail))
        .route("/jobs/{id}/requeue", post(requeue_one))
        .route("/jobs/{id}/cancel", post(cancel_one))
        .route("/jobs/{id}/delete", post(delete_one))
        .route("/jobs/{id}/enqueue-now", post(enqueue_now_one))
        .route("/jobs/{id}/stop", post(stop))
        // A job may be *named* `requeue`, `cancel` or `delete`: GET still shows it.
        .route("/jobs/requeue", post(requeue_many).get(requeue_named))
        .route("/jobs/cancel", post(cancel_many).get(cancel_named))
        .route("/jobs/delete", post(delete_many).get(delete_named))
}

/// Everything known about one job, with its timeline.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(JobId), responses((status = 200, body = JobDetail)))]
pub(super) async fn detail(c: Ctx, Seg(id): Seg) -> ApiResult<Response> {
    detail_of(c, &id).await
}

/// The job whose id is `requeue` (`/jobs/requeue` is also the bulk action).
#[utoipa::path(get, path = "/api/v1/jobs/requeue", tag = "jobs",
    responses((status = 200, body = JobDetail), (status = 404, body = ErrorBody,
        description = "`not_found`: no job has this id")))]
pub(super) async fn requeue_named(c: Ctx) -> ApiResult<Response> {
    detail_of(c, "requeue").await
}

/// The job whose id is `cancel`.
#[utoipa::path(get, path = "/api/v1/jobs/cancel", tag = "jobs",
    responses((status = 200, body = JobDetail), (status = 404, body = ErrorBody,
        description = "`not_found`: no job has this id")))]
pub(super) async fn cancel_named(c: Ctx) -> ApiResult<Response> {
    detail_of(c, "cancel").await
}

/// The job whose id is `delete`.
#[utoipa::path(get, path = "/api/v1/jobs/delete", tag = "jobs",
    responses((status = 200, body = JobDetail), (status = 404, body = ErrorBody,
        description = "`not_found`: no job has this id")))]
pub(super) async fn delete_named(c: Ctx) -> ApiResult<Response> {
    detail_of(c, "delete").await
}

/// Requeues one failed job (the outcome says if it was skipped, and why).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/requeue", tag = "jobs",
    params(JobId), responses((status = 200, body = JobsOutcome)))]
pub(super) async fn requeue_one(c: Ctx, w: Who, s: Seg) -> ApiResult<Response> {
    one(c, w, s, Verb::Requeue).await
}

/// Cancels one job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs",
    params(JobId), responses((status = 200, body = JobsOutcome)))]
pub(super) async fn cancel_one(c: Ctx, w: Who, s: Seg) -> ApiResult<Response> {
    one(c, w, s, Verb::Cancel).await
}

/// Deletes one job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/delete", tag = "jobs",
    params(JobId), responses((status = 200, body = JobsOutcome)))]
pub(super) async fn delete_one(c: Ctx, w: Who, s: Seg) -> ApiResult<Response> {
    one(c, w, s, Verb::Delete).await
}

/// Enqueues one scheduled or deferred job now.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/enqueue-now", tag = "jobs",
    params(JobId), responses((status = 200, body = JobsOutcome)))]
pub(super) async fn enqueue_now_one(c: Ctx, w: Who, s: Seg) -> ApiResult<Response> {
    one(c, w, s, Verb::EnqueueNow).await
}

/// Requeues the listed jobs (`{"ids": [...]}`, at most 1,000).
#[utoipa::path(post, path = "/api/v1/jobs/requeue", tag = "jobs",
    request_body = Ids, responses((status = 200, body = JobsOutcome)))]
pub(super) async fn requeue_many(c: Ctx, w: Who, b: JsonBody<Ids>) -> ApiResult<Response> {
    bulk(c, w, b, Verb::Requeue).await
}

/// Cancels the listed jobs.
#[utoipa::path(post, path = "/api/v1/jobs/cancel", tag = "jobs",
    request_body = Ids, responses((status = 200, body = JobsOutcome)))]
pub(super) async fn cancel_many(c: Ctx, w: Who, b: JsonBody<Ids>) -> ApiResult<Response> {
    bulk(c, w, b, Verb::Cancel).await
}

/// Deletes the listed jobs.
#[utoipa::path(post, path = "/api/v1/jobs/delete", tag = "jobs",
    request_body = Ids, responses((status = 200, body = JobsOutcome)))]
pub(super) async fn delete_many(c: Ctx, w: Who, b: JsonBody<Ids>) -> ApiResult<Response> {
    bulk(c, w, b, Verb::Delete).await
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

/// Sends `stop-job` to the worker running the job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/stop", tag = "jobs",
    params(JobId), responses((status = 200, body = StopOutcome)))]
pub(super) async fn stop(State(c): Ctx, Who(who): Who, Seg(id): Seg) -> ApiResult<Response> {
    perform(&c, &who, Action::Stop { id }).await
}
