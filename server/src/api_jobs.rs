//! Job routes of the API: detail, single-job actions and bulk actions over `{"ids": [...]}`.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::stop::StopOutcome;
use engine::actions::{self, Outcome};

use crate::api::{audited, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::extract::{job_id, Ids, JsonBody, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/jobs/{id}", get(detail))
        .route("/jobs/{id}/requeue", post(one_requeue))
        .route("/jobs/{id}/cancel", post(one_cancel))
        .route("/jobs/{id}/delete", post(one_delete))
        .route("/jobs/{id}/enqueue-now", post(one_enqueue_now))
        .route("/jobs/{id}/stop", post(stop))
        // A job may be *named* `requeue`, `cancel` or `delete`: GET still shows it.
        .route(
            "/jobs/requeue",
            post(bulk_requeue).get(|c: Ctx| detail_of(c, "requeue")),
        )
        .route(
            "/jobs/cancel",
            post(bulk_cancel).get(|c: Ctx| detail_of(c, "cancel")),
        )
        .route(
            "/jobs/delete",
            post(bulk_delete).get(|c: Ctx| detail_of(c, "delete")),
        )
}

async fn detail(c: Ctx, Seg(id): Seg) -> ApiResult<Response> {
    detail_of(c, &id).await
}

async fn detail_of(State(c): Ctx, id: &str) -> ApiResult<Response> {
    let id = id.to_string();
    job_id(&id)?;
    match engine::job::fetch(&c.store, &id).await? {
        Some(d) => Ok(Json(d).into_response()),
        None => Err(ApiError::not_found(format!("no job {id}"))),
    }
}

#[derive(Clone, Copy)]
enum Act {
    Requeue,
    Cancel,
    Delete,
    EnqueueNow,
}

impl Act {
    fn name(self) -> &'static str {
        match self {
            Act::Requeue => "requeue",
            Act::Cancel => "cancel",
            Act::Delete => "delete",
            Act::EnqueueNow => "enqueue_now",
        }
    }

    async fn run(self, c: &Console, ids: &[String]) -> engine::Result<Outcome> {
        match self {
            Act::Requeue => actions::requeue::requeue(&c.store, ids).await,
            Act::Cancel => actions::cancel::cancel(&c.store, ids).await,
            Act::Delete => actions::delete::delete(&c.store, ids).await,
            Act::EnqueueNow => actions::enqueue_now::enqueue_now(&c.store, ids).await,
        }
    }
}

/// One job: 404 if the engine reports it missing, otherwise the outcome (which may say the job
/// was skipped because it is in the wrong state).
async fn one(act: Act, c: &Console, who: &str, id: String) -> ApiResult<Response> {
    job_id(&id)?;
    let ids = [id];
    let outcome = act.run(c, &ids).await?;
    audited(c, who, act.name(), &ids[0], outcome.count()).await;
    if outcome.done.is_empty() && outcome.skipped.iter().any(|s| s.reason == "not_found") {
        return Err(ApiError::not_found(format!("no job {}", ids[0])));
    }
    Ok(Json(outcome).into_response())
}

async fn bulk(act: Act, c: &Console, who: &str, body: JsonBody<Ids>) -> ApiResult<Response> {
    let ids = body.required()?.validated()?;
    let outcome = act.run(c, &ids).await?;
    let target = match ids.as_slice() {
        [one] => one.clone(),
        many => format!("{} jobs", many.len()),
    };
    audited(c, who, act.name(), &target, outcome.count()).await;
    Ok(Json(outcome).into_response())
}

async fn one_requeue(State(c): Ctx, Who(w): Who, Seg(id): Seg) -> ApiResult<Response> {
    one(Act::Requeue, &c, &w, id).await
}
async fn one_cancel(State(c): Ctx, Who(w): Who, Seg(id): Seg) -> ApiResult<Response> {
    one(Act::Cancel, &c, &w, id).await
}
async fn one_delete(State(c): Ctx, Who(w): Who, Seg(id): Seg) -> ApiResult<Response> {
    one(Act::Delete, &c, &w, id).await
}
async fn one_enqueue_now(State(c): Ctx, Who(w): Who, Seg(id): Seg) -> ApiResult<Response> {
    one(Act::EnqueueNow, &c, &w, id).await
}
async fn bulk_requeue(State(c): Ctx, Who(w): Who, b: JsonBody<Ids>) -> ApiResult<Response> {
    bulk(Act::Requeue, &c, &w, b).await
}
async fn bulk_cancel(State(c): Ctx, Who(w): Who, b: JsonBody<Ids>) -> ApiResult<Response> {
    bulk(Act::Cancel, &c, &w, b).await
}
async fn bulk_delete(State(c): Ctx, Who(w): Who, b: JsonBody<Ids>) -> ApiResult<Response> {
    bulk(Act::Delete, &c, &w, b).await
}

async fn stop(State(c): Ctx, Who(who): Who, Seg(id): Seg) -> ApiResult<Response> {
    job_id(&id)?;
    let outcome = actions::stop::stop(&c.store, &id).await?;
    let sent = matches!(outcome, StopOutcome::Sent { .. });
    audited(&c, &who, "stop", &id, u64::from(sent)).await;
    if outcome == StopOutcome::NotFound {
        return Err(ApiError::not_found(format!("no job {id}")));
    }
    Ok(Json(outcome).into_response())
}
