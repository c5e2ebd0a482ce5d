//! Failure groups: the groups (largest first, with the index's `as_of`), one group's jobs, and
//! requeue / delete of a whole group (`?dry_run=1` counts what would be affected and changes
//! nothing; `{"expected": N}` answers 409 `conflict` unless the live count is exactly N).

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::Action;
use serde_json::json;

use super::ctx::{expected, perform, Confirm, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Params, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/failed/groups", get(groups))
        .route("/failed/groups/{fingerprint}", get(group_jobs))
        .route("/failed/groups/{fingerprint}/requeue", post(requeue))
        .route("/failed/groups/{fingerprint}/delete", post(delete))
}

async fn groups(State(c): Ctx) -> ApiResult<Response> {
    Ok(Json(c.backend.failure_groups().await?).into_response())
}

async fn group_jobs(State(c): Ctx, Seg(fp): Seg, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    if c.backend.failure_group(&fp).await?.is_none() {
        return Err(ApiError::not_found(format!("no failure group {fp:?}")));
    }
    Ok(Json(c.backend.failure_group_jobs(&fp, offset, limit).await?).into_response())
}

#[derive(Clone, Copy)]
enum Verb {
    Requeue,
    Delete,
}

async fn requeue(
    c: Ctx,
    who: Who,
    fp: Seg,
    p: Params,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    act(c, who, fp, p, body, Verb::Requeue).await
}

async fn delete(
    c: Ctx,
    who: Who,
    fp: Seg,
    p: Params,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    act(c, who, fp, p, body, Verb::Delete).await
}

async fn act(
    State(c): Ctx,
    Who(who): Who,
    Seg(fingerprint): Seg,
    p: Params,
    body: JsonBody<Confirm>,
    verb: Verb,
) -> ApiResult<Response> {
    let expected = expected(body);
    let dry_run = match p.0.get("dry_run").map(String::as_str) {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return Err(ApiError::bad_request("dry_run must be 1 or 0")),
    };
    if dry_run {
        // A read: nothing changes and nothing is audited; a stale `expected` is still a 409.
        let count = c.backend.failure_group_live(&fingerprint).await?;
        if let Some(e) = expected.filter(|e| *e != count) {
            return Err(engine::Error::Conflict(format!(
                "The number of failed jobs in group {fingerprint} changed from {e} to {count}"
            ))
            .into());
        }
        return Ok(Json(json!({ "count": count, "dry_run": true })).into_response());
    }
    let action = match verb {
        Verb::Requeue => Action::RequeueGroup {
            fingerprint,
            expected,
        },
        Verb::Delete => Action::DeleteGroup {
            fingerprint,
            expected,
        },
    };
    perform(&c, &who, action).await
}
