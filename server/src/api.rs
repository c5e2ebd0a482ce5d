//! The JSON API under `/api/v1` (docs/contracts.md): reads here, job actions in `api_jobs`,
//! worker and suspend actions in `api_workers`. Every action records one audit entry and drops
//! the cached snapshot so the next read shows its effect.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::model::{AuditEntry, JobList, QueueCounts};
use serde_json::json;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{queue_name, JsonBody, Params, Seg, Who};
use crate::{api_jobs, api_workers};

pub type Ctx = State<Arc<Console>>;

pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/overview", get(overview))
        .route("/queues", get(queues))
        .route("/queues/{name}", get(queue_page))
        .route("/queues/{name}/enqueue", post(enqueue))
        .route("/queues/{name}/empty", post(empty))
        .route("/queues/{name}/requeue-failed", post(requeue_failed))
        .route("/failed", get(failed))
        .route("/failed/requeue-all", post(requeue_all))
        .route("/audit", get(audit))
        .merge(api_jobs::routes())
        .merge(api_workers::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(console)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such API route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "method not allowed (actions are POST, reads are GET)",
    )
}

/// Records an action in the audit log and drops the cached snapshot. An audit write that fails
/// is logged, not returned: the action itself already happened.
pub async fn audited(console: &Console, who: &str, action: &str, target: &str, count: u64) {
    console.invalidate().await;
    let entry = AuditEntry {
        at: engine::time::now(),
        who: who.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        count,
    };
    if let Err(e) = engine::audit::record(&console.store, &entry).await {
        tracing::warn!(error = %e, action, target, "audit record failed");
    }
}

async fn overview(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&*c.snapshot().await?).into_response())
}

async fn queues(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&c.snapshot().await?.queues).into_response())
}

/// 404 unless `name` is in `rq:queues`.
pub async fn known_queue(c: &Console, name: &str) -> ApiResult<()> {
    queue_name(name)?;
    if engine::queue::exists(&c.store, name).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no queue named {name:?}")))
    }
}

/// Counts for one queue from the shared snapshot (re-read once if the queue is newer than it).
async fn counts(c: &Arc<Console>, name: &str) -> ApiResult<QueueCounts> {
    let find = |s: &engine::model::Snapshot| s.queues.iter().find(|q| q.name == name).cloned();
    if let Some(q) = find(&*c.snapshot().await?) {
        return Ok(q);
    }
    c.invalidate().await;
    Ok(find(&*c.snapshot().await?).unwrap_or_else(|| QueueCounts {
        name: name.to_string(),
        ..QueueCounts::default()
    }))
}

async fn queue_page(State(c): Ctx, Seg(name): Seg, p: Params) -> ApiResult<Response> {
    let list = match p.0.get("list").map(String::as_str) {
        None | Some("") => JobList::Queued,
        Some(s) => JobList::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "list must be one of queued, started, finished, failed, deferred, scheduled, canceled",
            )
        })?,
    };
    let (offset, limit) = p.window()?;
    known_queue(&c, &name).await?;
    let page = engine::registry::page(&c.store, &name, list, offset, limit).await?;
    let counts = counts(&c, &name).await?;
    Ok(Json(json!({ "counts": counts, "page": page })).into_response())
}

async fn enqueue(
    State(c): Ctx,
    Who(who): Who,
    Seg(name): Seg,
    body: JsonBody<engine::enqueue::NewJob>,
) -> ApiResult<Response> {
    queue_name(&name)?;
    let mut job = body.required()?;
    job.queue = name.clone();
    if let Some(id) = &job.id {
        crate::extract::job_id(id)?;
    }
    for id in &job.depends_on {
        crate::extract::job_id(id)?;
    }
    let id = engine::enqueue::enqueue(&c.store, job).await?;
    audited(&c, &who, "enqueue", &id, 1).await;
    Ok(Json(json!({ "id": id })).into_response())
}

async fn empty(State(c): Ctx, Who(who): Who, Seg(name): Seg) -> ApiResult<Response> {
    known_queue(&c, &name).await?;
    let n = engine::actions::empty::empty(&c.store, &name).await?;
    audited(&c, &who, "empty", &name, n).await;
    Ok(Json(json!({ "count": n })).into_response())
}

async fn requeue_failed(State(c): Ctx, Who(who): Who, Seg(name): Seg) -> ApiResult<Response> {
    known_queue(&c, &name).await?;
    let n = engine::actions::requeue::requeue_queue(&c.store, &name).await?;
    audited(&c, &who, "requeue_failed", &name, n).await;
    Ok(Json(json!({ "count": n })).into_response())
}

async fn failed(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    let page = engine::registry::failed_all(&c.store, offset, limit).await?;
    Ok(Json(page).into_response())
}

async fn requeue_all(State(c): Ctx, Who(who): Who) -> ApiResult<Response> {
    let n = engine::actions::requeue::requeue_all(&c.store).await?;
    audited(&c, &who, "requeue_all", "*", n).await;
    Ok(Json(json!({ "count": n })).into_response())
}

async fn audit(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    Ok(Json(engine::audit::page(&c.store, offset, limit).await?).into_response())
}
