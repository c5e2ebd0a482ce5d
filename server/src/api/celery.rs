//! Celery routes under `/api/v1/celery` (docs/contracts.md, "Celery"). Reads come from the
//! console's `engine::celery::Celery`; actions are `celery-*` variants of
//! `engine::actions::Action` run through `Console::perform` (read-only gate, validation, audit),
//! like every RQ action. Without `--celery-broker` every route answers 404 `not_found`.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::{Action, Outcome};
use engine::celery::types::{
    CeleryQueue, CeleryQueuePage, CeleryTask, CeleryTaskPage, CeleryWorker, EventStatus,
    InspectReply,
};
use engine::celery::Celery;
use serde::Deserialize;

use super::ctx::{perform, Ctx};
use super::params::{Hostname, InspectQuery, QueueName, TaskId, TasksQuery, Window};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{JsonBody, Params, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/celery/queues", get(queues))
        .route("/celery/queues/{name}", get(queue))
        .route("/celery/workers", get(workers))
        .route("/celery/workers/{hostname}/inspect", get(inspect))
        .route("/celery/events", get(events))
        .route("/celery/tasks", get(tasks))
        .route("/celery/tasks/{id}", get(task))
        .route("/celery/tasks/{id}/revoke", post(revoke))
        .route("/celery/tasks/{id}/retry", post(retry))
        .route("/celery/workers/{hostname}/pool", post(pool))
        .route("/celery/workers/{hostname}/autoscale", post(autoscale))
        .route("/celery/workers/{hostname}/shutdown", post(shutdown))
        .route(
            "/celery/workers/{hostname}/pool-restart",
            post(pool_restart),
        )
        .route("/celery/workers/{hostname}/rate-limit", post(rate_limit))
        .route("/celery/workers/{hostname}/time-limit", post(time_limit))
        .route("/celery/workers/{hostname}/consumers", post(consumers))
}

fn celery(c: &Console) -> ApiResult<Arc<Celery>> {
    c.celery.clone().ok_or_else(|| {
        ApiError::not_found("no Celery broker is configured (taskmill serve --celery-broker URL)")
    })
}

/// Celery queues with their depths.
#[utoipa::path(get, path = "/api/v1/celery/queues", tag = "celery",
    responses((status = 200, body = Vec<CeleryQueue>),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)")))]
pub(super) async fn queues(State(c): Ctx) -> ApiResult<Response> {
    let q = engine::celery::queues::list(&*celery(&c)?).await?;
    Ok(Json(q.queues).into_response())
}

/// One Celery queue: its messages, and some reserved ones.
#[utoipa::path(get, path = "/api/v1/celery/queues/{name}", tag = "celery",
    params(QueueName, Window),
    responses((status = 200, body = CeleryQueuePage),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)")))]
pub(super) async fn queue(State(c): Ctx, Seg(name): Seg, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    let page = engine::celery::queues::page(&*celery(&c)?, &name, offset, limit).await?;
    Ok(Json(page).into_response())
}

/// Celery workers seen on the event stream.
#[utoipa::path(get, path = "/api/v1/celery/workers", tag = "celery",
    responses((status = 200, body = Vec<CeleryWorker>),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)")))]
pub(super) async fn workers(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(celery(&c)?.workers()).into_response())
}

/// The inspect methods a worker page may ask for.
pub const INSPECT: [&str; 7] = [
    "stats",
    "active",
    "reserved",
    "scheduled",
    "registered",
    "active_queues",
    "revoked",
];

/// Runs one `inspect` method on one worker.
#[utoipa::path(get, path = "/api/v1/celery/workers/{hostname}/inspect", tag = "celery",
    params(Hostname, InspectQuery),
    responses((status = 200, body = InspectReply),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn inspect(State(c): Ctx, Seg(host): Seg, p: Params) -> ApiResult<Response> {
    let cel = celery(&c)?;
    engine::limits::validate_worker_name(&host)?;
    let method = p.0.get("method").map(String::as_str).unwrap_or("stats");
    if !INSPECT.contains(&method) {
        return Err(ApiError::bad_request(format!(
            "method must be one of {}",
            INSPECT.join(", ")
        )));
    }
    let args = match method {
        "active" => serde_json::json!({"safe": true}),
        "registered" => serde_json::json!({"taskinfoitems": []}),
        _ => serde_json::json!({}),
    };
    let dest = [host];
    let r = engine::celery::control::call(&cel, method, args, Some(&dest), Some(1), cel.timeout)
        .await?;
    Ok(Json(r).into_response())
}

/// The state of the console's Celery event subscription.
#[utoipa::path(get, path = "/api/v1/celery/events", tag = "celery",
    responses((status = 200, body = EventStatus),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)")))]
pub(super) async fn events(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(celery(&c)?.event_status()).into_response())
}

/// Tasks seen, newest first.
#[utoipa::path(get, path = "/api/v1/celery/tasks", tag = "celery",
    params(TasksQuery, Window),
    responses((status = 200, body = CeleryTaskPage),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)")))]
pub(super) async fn tasks(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    let nonempty = |k: &str| p.0.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let page = engine::celery::tasks::list(
        &*celery(&c)?,
        nonempty("state"),
        nonempty("name"),
        offset,
        limit,
    )
    .await?;
    Ok(Json(page).into_response())
}

/// One task.
#[utoipa::path(get, path = "/api/v1/celery/tasks/{id}", tag = "celery",
    params(TaskId),
    responses((status = 200, body = CeleryTask),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)")))]
pub(super) async fn task(State(c): Ctx, Seg(id): Seg) -> ApiResult<Response> {
    match engine::celery::tasks::get(&*celery(&c)?, &id).await? {
        Some(t) => Ok(Json(t).into_response()),
        None => Err(ApiError::not_found(format!(
            "no Celery task {id} was ever seen"
        ))),
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Revoke {
    #[serde(default)]
    terminate: bool,
    signal: Option<String>,
}

/// Revokes a task (`terminate`: kill it if running).
#[utoipa::path(post, path = "/api/v1/celery/tasks/{id}/revoke", tag = "celery",
    params(TaskId),
    request_body = Option<Revoke>,
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn revoke(
    State(c): Ctx,
    Who(who): Who,
    Seg(id): Seg,
    body: JsonBody<Revoke>,
) -> ApiResult<Response> {
    celery(&c)?;
    let b = body.0.unwrap_or_default();
    let action = Action::CeleryRevoke {
        id,
        terminate: b.terminate,
        signal: b.signal,
    };
    perform(&c, &who, action).await
}

/// Re-publishes a failed task's original message.
#[utoipa::path(post, path = "/api/v1/celery/tasks/{id}/retry", tag = "celery",
    params(TaskId),
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 409, body = ErrorBody, description = "`conflict`: the task did not fail, or its message is unknown")))]
pub(super) async fn retry(State(c): Ctx, Who(who): Who, Seg(id): Seg) -> ApiResult<Response> {
    celery(&c)?;
    perform(&c, &who, Action::CeleryRetry { id }).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Pool {
    grow: Option<u64>,
    shrink: Option<u64>,
}

/// Grows or shrinks a worker's pool.
#[utoipa::path(post, path = "/api/v1/celery/workers/{hostname}/pool", tag = "celery",
    params(Hostname),
    request_body = Pool,
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn pool(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
    body: JsonBody<Pool>,
) -> ApiResult<Response> {
    celery(&c)?;
    let action = match body.required()? {
        Pool {
            grow: Some(n),
            shrink: None,
        } => Action::CeleryPoolGrow { worker, n },
        Pool {
            grow: None,
            shrink: Some(n),
        } => Action::CeleryPoolShrink { worker, n },
        _ => {
            return Err(ApiError::bad_request(
                r#"body must be {"grow": n} or {"shrink": n}"#,
            ))
        }
    };
    perform(&c, &who, action).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Autoscale {
    max: u64,
    min: u64,
}

/// Sets a worker's autoscale bounds.
#[utoipa::path(post, path = "/api/v1/celery/workers/{hostname}/autoscale", tag = "celery",
    params(Hostname),
    request_body = Autoscale,
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn autoscale(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
    body: JsonBody<Autoscale>,
) -> ApiResult<Response> {
    celery(&c)?;
    let Autoscale { max, min } = body.required()?;
    perform(&c, &who, Action::CeleryAutoscale { worker, max, min }).await
}

/// Shuts a worker down.
#[utoipa::path(post, path = "/api/v1/celery/workers/{hostname}/shutdown", tag = "celery",
    params(Hostname),
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn shutdown(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
) -> ApiResult<Response> {
    celery(&c)?;
    perform(&c, &who, Action::CeleryShutdown { worker }).await
}

/// Restarts a worker's pool.
#[utoipa::path(post, path = "/api/v1/celery/workers/{hostname}/pool-restart", tag = "celery",
    params(Hostname),
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn pool_restart(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
) -> ApiResult<Response> {
    celery(&c)?;
    perform(&c, &who, Action::CeleryPoolRestart { worker }).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RateLimit {
    task: String,
    rate: String,
}

/// Sets a task's rate limit on a worker.
#[utoipa::path(post, path = "/api/v1/celery/workers/{hostname}/rate-limit", tag = "celery",
    params(Hostname),
    request_body = RateLimit,
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn rate_limit(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
    body: JsonBody<RateLimit>,
) -> ApiResult<Response> {
    celery(&c)?;
    let RateLimit { task, rate } = body.required()?;
    perform(&c, &who, Action::CeleryRateLimit { worker, task, rate }).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TimeLimit {
    task: String,
    soft: Option<f64>,
    hard: Option<f64>,
}

/// Sets a task's time limits on a worker.
#[utoipa::path(post, path = "/api/v1/celery/workers/{hostname}/time-limit", tag = "celery",
    params(Hostname),
    request_body = TimeLimit,
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn time_limit(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
    body: JsonBody<TimeLimit>,
) -> ApiResult<Response> {
    celery(&c)?;
    let TimeLimit { task, soft, hard } = body.required()?;
    perform(
        &c,
        &who,
        Action::CeleryTimeLimit {
            worker,
            task,
            soft,
            hard,
        },
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Consumer {
    add: Option<String>,
    cancel: Option<String>,
}

/// Adds or cancels a worker's consumer of a queue.
#[utoipa::path(post, path = "/api/v1/celery/workers/{hostname}/consumers", tag = "celery",
    params(Hostname),
    request_body = Consumer,
    responses((status = 200, body = Outcome),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured (or nothing has this name)"),
        (status = 504, body = ErrorBody, description = "`no_reply`: no worker answered in time")))]
pub(super) async fn consumers(
    State(c): Ctx,
    Who(who): Who,
    Seg(worker): Seg,
    body: JsonBody<Consumer>,
) -> ApiResult<Response> {
    celery(&c)?;
    let action = match body.required()? {
        Consumer {
            add: Some(queue),
            cancel: None,
        } => Action::CeleryAddConsumer { worker, queue },
        Consumer {
            add: None,
            cancel: Some(queue),
        } => Action::CeleryCancelConsumer { worker, queue },
        _ => {
            return Err(ApiError::bad_request(
                r#"body must be {"add": queue} or {"cancel": queue}"#,
            ))
        }
    };
    perform(&c, &who, action).await
}
