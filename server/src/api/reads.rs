//! Read routes: overview, queues, one queue's lists, failed across queues, audit.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use engine::model::{JobList, QueueCounts};
use serde_json::json;

use super::ctx::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, Seg};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/overview", get(overview))
        .route("/queues", get(queues))
        .route("/queues/{name}", get(queue_page))
        .route("/failed", get(failed))
        .route("/audit", get(audit))
}

async fn overview(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&*c.snapshot().await?).into_response())
}

async fn queues(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&c.snapshot().await?.queues).into_response())
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
    engine::limits::validate_queue_name(&name)?;
    if !c.backend.queue_exists(&name).await? {
        return Err(ApiError::not_found(format!("no queue named {name:?}")));
    }
    let page = c.backend.jobs(&name, list, offset, limit).await?;
    let counts = counts(&c, &name).await?;
    Ok(Json(json!({ "counts": counts, "page": page })).into_response())
}

async fn failed(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    Ok(Json(c.backend.failed(None, offset, limit).await?).into_response())
}

async fn audit(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    Ok(Json(c.backend.audit(offset, limit).await?).into_response())
}
