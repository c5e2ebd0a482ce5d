//! Failure groups: the groups (largest first, with the index's `as_of`), one group's jobs, and
//! requeue / delete of a whole group (`?dry_run=1` counts what would be affected and changes
//! nothing; `{"expected": N}` answers 409 `conflict` unless the live count is exactly N).
//! With `--celery-broker`, Celery's groups (`backend: "celery"`) are listed beside RQ's;
//! `?backend=rq|celery` keeps one system's, and a Celery group's tasks are
//! `GET /failed/groups/{fingerprint}?backend=celery`.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::Action;
use engine::celery::types::CeleryTaskPage;
use engine::model::{FailureGroups, JobSummary, Page};
use serde::Serialize;

use super::ctx::{expected, perform, Acted, Confirm, Ctx, DryRunCount};
use super::params::{BackendQuery, DryRunQuery, Fingerprint, Window};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{JsonBody, Params, Seg, Who};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/failed/groups", get(groups))
        .route("/failed/groups/{fingerprint}", get(group_jobs))
        .route("/failed/groups/{fingerprint}/requeue", post(requeue))
        .route("/failed/groups/{fingerprint}/delete", post(delete))
        .route("/failed/groups/{fingerprint}/retry", post(retry))
}

/// Celery's groups: re-publishes every failed task of the group; `?dry_run=1` and
/// `{"expected": N}` as requeue / delete.
#[utoipa::path(post, path = "/api/v1/failed/groups/{fingerprint}/retry", tag = "groups",
    params(Fingerprint, DryRunQuery), request_body = Option<Confirm>,
    responses((status = 200, body = Acted), (status = 409, body = ErrorBody,
        description = "`conflict`: the live count is not `expected`"),
        (status = 404, body = ErrorBody, description = "`not_found`: no Celery broker is configured")))]
pub(super) async fn retry(
    State(c): Ctx,
    Who(who): Who,
    Seg(fingerprint): Seg,
    p: Params,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    let cel = c.celery.clone().ok_or_else(celery_off)?;
    engine::limits::validate_fingerprint(&fingerprint)?;
    let expected = expected(body);
    if dry_run(&p)? {
        let count = engine::celery::groups::live_members(&cel, &fingerprint)
            .await?
            .len() as u64;
        if let Some(e) = expected.filter(|e| *e != count) {
            return Err(engine::Error::Conflict(format!(
                "The number of failed tasks in group {fingerprint} changed from {e} to {count}"
            ))
            .into());
        }
        return Ok(DryRunCount::response(count));
    }
    let action = Action::CeleryRetryGroup {
        fingerprint,
        expected,
    };
    perform(&c, &who, action).await
}

fn dry_run(p: &Params) -> ApiResult<bool> {
    match p.0.get("dry_run").map(String::as_str) {
        None | Some("" | "0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(_) => Err(ApiError::bad_request("dry_run must be 1 or 0")),
    }
}

/// `?backend=`: `None` = both.
fn backend(p: &Params) -> ApiResult<Option<&'static str>> {
    match p.0.get("backend").map(String::as_str) {
        None | Some("") => Ok(None),
        Some("rq") => Ok(Some("rq")),
        Some("celery") => Ok(Some("celery")),
        Some(_) => Err(ApiError::bad_request("backend must be rq or celery")),
    }
}

/// Failure groups, largest first (RQ's and, with `--celery-broker`, Celery's).
#[utoipa::path(get, path = "/api/v1/failed/groups", tag = "groups",
    params(BackendQuery), responses((status = 200, body = FailureGroups),
        (status = 404, body = ErrorBody, description = "`not_found`: `backend=celery` without a Celery broker")))]
pub(super) async fn groups(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let which = backend(&p)?;
    let mut out = if which == Some("celery") {
        engine::model::FailureGroups {
            as_of: None,
            items: Vec::new(),
        }
    } else {
        c.backend.failure_groups().await?
    };
    if which != Some("rq") {
        if let Some(cel) = &c.celery {
            let g = engine::celery::groups::groups(cel).await?;
            if which == Some("celery") {
                out.as_of = g.as_of;
            }
            out.items.extend(g.items);
            out.items.sort_by(|a, b| {
                b.count
                    .cmp(&a.count)
                    .then(a.backend.cmp(&b.backend))
                    .then(a.fingerprint.cmp(&b.fingerprint))
            });
        } else if which == Some("celery") {
            return Err(celery_off());
        }
    }
    Ok(Json(out).into_response())
}

fn celery_off() -> ApiError {
    ApiError::not_found("Celery is not configured (taskmill serve --celery-broker)")
}

/// A failure group's jobs: RQ's (`Page` of `JobSummary`) or, with `?backend=celery`, Celery's
/// tasks.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(super) enum GroupJobs {
    Rq(Page<JobSummary>),
    Celery(CeleryTaskPage),
}

/// One failure group's jobs, newest failure first.
#[utoipa::path(get, path = "/api/v1/failed/groups/{fingerprint}", tag = "groups",
    params(Fingerprint, BackendQuery, Window), responses((status = 200, body = GroupJobs)))]
pub(super) async fn group_jobs(State(c): Ctx, Seg(fp): Seg, p: Params) -> ApiResult<Response> {
    let (offset, limit) = p.window()?;
    if backend(&p)? == Some("celery") {
        let cel = c.celery.as_ref().ok_or_else(celery_off)?;
        if engine::celery::groups::group_info(cel, &fp)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found(format!(
                "no Celery failure group {fp:?}"
            )));
        }
        let page = engine::celery::groups::group_page(cel, &fp, offset, limit).await?;
        return Ok(Json(GroupJobs::Celery(page)).into_response());
    }
    if c.backend.failure_group(&fp).await?.is_none() {
        return Err(ApiError::not_found(format!("no failure group {fp:?}")));
    }
    let page = c.backend.failure_group_jobs(&fp, offset, limit).await?;
    Ok(Json(GroupJobs::Rq(page)).into_response())
}

#[derive(Clone, Copy)]
enum Verb {
    Requeue,
    Delete,
}

/// Requeues every job of the group (`?dry_run=1`: only count them).
#[utoipa::path(post, path = "/api/v1/failed/groups/{fingerprint}/requeue", tag = "groups",
    params(Fingerprint, DryRunQuery), request_body = Option<Confirm>,
    responses((status = 200, body = Acted), (status = 409, body = ErrorBody,
        description = "`conflict`: the live count is not `expected`")))]
pub(super) async fn requeue(
    c: Ctx,
    who: Who,
    fp: Seg,
    p: Params,
    body: JsonBody<Confirm>,
) -> ApiResult<Response> {
    act(c, who, fp, p, body, Verb::Requeue).await
}

/// Deletes every job of the group (`?dry_run=1`: only count them).
#[utoipa::path(post, path = "/api/v1/failed/groups/{fingerprint}/delete", tag = "groups",
    params(Fingerprint, DryRunQuery), request_body = Option<Confirm>,
    responses((status = 200, body = Acted), (status = 409, body = ErrorBody,
        description = "`conflict`: the live count is not `expected`")))]
pub(super) async fn delete(
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
    if dry_run(&p)? {
        // A read: nothing changes and nothing is audited; a stale `expected` is still a 409.
        let count = c.backend.failure_group_live(&fingerprint).await?;
        if let Some(e) = expected.filter(|e| *e != count) {
            return Err(engine::Error::Conflict(format!(
                "The number of failed jobs in group {fingerprint} changed from {e} to {count}"
            ))
            .into());
        }
        return Ok(DryRunCount::response(count));
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
