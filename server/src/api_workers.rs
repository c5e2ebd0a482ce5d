//! Worker routes of the API (list, shutdown, kill-horse, scale) and suspend / resume.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions;
use serde::Deserialize;
use serde_json::json;

use crate::api::{audited, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/workers", get(list))
        .route("/workers/{name}/shutdown", post(shutdown))
        .route("/workers/{name}/kill-horse", post(kill_horse))
        .route("/workers/{name}/scale", post(scale))
        .route("/suspend", post(suspend))
        .route("/resume", post(resume))
}

async fn list(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(&c.snapshot().await?.workers).into_response())
}

/// Worker names are free text in RQ; bound them like queue names, then require the hash.
async fn known_worker(c: &Console, name: &str) -> ApiResult<()> {
    if name.is_empty() || name.len() > 512 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request("invalid worker name"));
    }
    match engine::workers::get(&c.store, name).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!("no worker named {name:?}"))),
    }
}

async fn shutdown(State(c): Ctx, Who(who): Who, Seg(name): Seg) -> ApiResult<Response> {
    known_worker(&c, &name).await?;
    let n = actions::shutdown::shutdown(&c.store, &name).await?;
    audited(&c, &who, "shutdown", &name, n).await;
    Ok(Json(json!({ "receivers": n })).into_response())
}

async fn kill_horse(State(c): Ctx, Who(who): Who, Seg(name): Seg) -> ApiResult<Response> {
    known_worker(&c, &name).await?;
    let n = actions::shutdown::kill_horse(&c.store, &name).await?;
    audited(&c, &who, "kill_horse", &name, n).await;
    Ok(Json(json!({ "receivers": n })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scale {
    slots: u64,
}

async fn scale(
    State(c): Ctx,
    Who(who): Who,
    Seg(name): Seg,
    body: JsonBody<Scale>,
) -> ApiResult<Response> {
    let slots = body.required()?.slots;
    if slots == 0 || slots > actions::scale::MAX_SLOTS {
        return Err(ApiError::bad_request(format!(
            "slots must be between 1 and {}",
            actions::scale::MAX_SLOTS
        )));
    }
    known_worker(&c, &name).await?;
    let n = actions::scale::scale(&c.store, &name, slots).await?;
    audited(&c, &who, "scale", &format!("{name} → {slots}"), n).await;
    Ok(Json(json!({ "receivers": n })).into_response())
}

/// A year: longer is surely a typo, and Redis refuses expiries past its own limit anyway.
const MAX_SUSPEND_SECS: u64 = 365 * 24 * 3600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suspend {
    #[serde(default)]
    duration: Option<u64>,
}

async fn suspend(State(c): Ctx, Who(who): Who, body: JsonBody<Suspend>) -> ApiResult<Response> {
    let duration = body.0.and_then(|s| s.duration);
    if matches!(duration, Some(d) if d == 0 || d > MAX_SUSPEND_SECS) {
        return Err(ApiError::bad_request(format!(
            "duration must be between 1 and {MAX_SUSPEND_SECS} seconds"
        )));
    }
    actions::suspend::suspend(&c.store, duration).await?;
    let target = duration.map_or("all workers".to_string(), |d| format!("all workers, {d} s"));
    audited(&c, &who, "suspend", &target, 1).await;
    Ok(Json(json!({ "suspended": true })).into_response())
}

async fn resume(State(c): Ctx, Who(who): Who) -> ApiResult<Response> {
    actions::suspend::resume(&c.store).await?;
    audited(&c, &who, "resume", "all workers", 1).await;
    Ok(Json(json!({ "suspended": false })).into_response())
}
