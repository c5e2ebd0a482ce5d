//! Queue actions: enqueue, empty, requeue a queue's failed jobs, requeue every failed job.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use engine::actions::Action;

use super::ctx::{expected, perform, Confirm, Ctx};
use crate::error::ApiResult;
use crate::extract::{JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/queues/{name}/enqueue", post(enqueue))
        .route("/queues/{name}/empty", post(empty))
        .route("/queues/{name}/requeue-failed", post(requeue_failed))
        .route("/failed/requeue-all", post(requeue_all))
}

async fn enqueue(
    State(c): Ctx,
    Who(who): Who,
    Seg(name): Seg,
    body: JsonBody<engine::enqueue::NewJob>,
) -> ApiResult<Response> {
    let mut job = body.required()?;
    job.queue = name;
    perform(&c, &who, Action::Enqueue { job: Box::new(job) }).await
}

async fn empty(
    State(c): Ctx,
    Who(who): Who,
    Seg(queue): Seg,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    let expected = expected(body);
    perform(&c, &who, Action::Empty { queue, expected }).await
}

async fn requeue_failed(
    State(c): Ctx,
    Who(who): Who,
    Seg(queue): Seg,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    let expected = expected(body);
    perform(&c, &who, Action::RequeueQueue { queue, expected }).await
}

async fn requeue_all(State(c): Ctx, Who(who): Who, body: JsonBody<Confirm>) -> ApiResult<Response> {
    let expected = expected(body);
    perform(&c, &who, Action::RequeueAll { expected }).await
}
