//! Queue actions: enqueue, empty, requeue a queue's failed jobs, requeue every failed job.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use engine::actions::{Action, Outcome};

use super::ctx::{expected, perform, Confirm, Ctx};
use super::params::QueueName;
use crate::error::ApiResult;
use crate::extract::{JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/queues/{name}/enqueue", post(enqueue))
        .route("/queues/{name}/empty", post(empty))
        .route("/queues/{name}/requeue-failed", post(requeue_failed))
        .route("/failed/requeue-all", post(requeue_all))
}

/// Enqueues a job on the queue (`queue` in the body is ignored). Answers `{"id"}`.
#[utoipa::path(post, path = "/api/v1/queues/{name}/enqueue", tag = "queues",
    params(QueueName), request_body = engine::enqueue::NewJob,
    responses((status = 200, body = Outcome), (status = 409, body = crate::error::ErrorBody,
        description = "`conflict`: a job with this id exists")))]
pub(super) async fn enqueue(
    State(c): Ctx,
    Who(who): Who,
    Seg(name): Seg,
    body: JsonBody<engine::enqueue::NewJob>,
) -> ApiResult<Response> {
    let mut job = body.required()?;
    job.queue = name;
    perform(&c, &who, Action::Enqueue { job: Box::new(job) }).await
}

/// Empties the queue. Answers `{"count"}`.
#[utoipa::path(post, path = "/api/v1/queues/{name}/empty", tag = "queues",
    params(QueueName), request_body = Option<Confirm>,
    responses((status = 200, body = Outcome), (status = 409, body = crate::error::ErrorBody,
        description = "`conflict`: the live count is not `expected`")))]
pub(super) async fn empty(
    State(c): Ctx,
    Who(who): Who,
    Seg(queue): Seg,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    let expected = expected(body);
    perform(&c, &who, Action::Empty { queue, expected }).await
}

/// Requeues the queue's failed jobs. Answers `{"count"}`.
#[utoipa::path(post, path = "/api/v1/queues/{name}/requeue-failed", tag = "queues",
    params(QueueName), request_body = Option<Confirm>,
    responses((status = 200, body = Outcome), (status = 409, body = crate::error::ErrorBody,
        description = "`conflict`: the live count is not `expected`")))]
pub(super) async fn requeue_failed(
    State(c): Ctx,
    Who(who): Who,
    Seg(queue): Seg,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    let expected = expected(body);
    perform(&c, &who, Action::RequeueQueue { queue, expected }).await
}

/// Requeues every failed job of every queue. Answers `{"count"}`.
#[utoipa::path(post, path = "/api/v1/failed/requeue-all", tag = "queues",
    request_body = Option<Confirm>,
    responses((status = 200, body = Outcome), (status = 409, body = crate::error::ErrorBody,
        description = "`conflict`: the live count is not `expected`")))]
pub(super) async fn requeue_all(
    State(c): Ctx,
    Who(who): Who,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    let expected = expected(body);
    perform(&c, &who, Action::RequeueAll { expected }).await
}
