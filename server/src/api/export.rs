//! Export routes: any job list streamed as CSV, a JSON array or NDJSON (`?format=`, default
//! csv) with `Content-Disposition: attachment`. Rows are fetched `engine::export::BATCH` at a
//! time and written as they come (`engine::export`), so memory stays at one batch whether the
//! list holds 10 or 100,000 jobs. Bad input (format, list, unknown queue or group) is refused
//! before the first byte; a Redis error mid-stream aborts the body, so a client sees a
//! truncated download rather than a silently short file.
//!
//! Routes (under `/api/v1`): `/export/queues/{name}?list=`, `/export/failed`,
//! `/export/failed/groups/{fingerprint}`, `/export/scheduled`, `/export/deferred`,
//! `/export/canceled`. Another page source (search) plugs in as an `engine::export::Source`.

use std::sync::Arc;

use app::state::Console;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use engine::export::{Encoder, Format, Paged, Source};
use engine::model::{JobList, JobSummary, Page};
use futures::future::BoxFuture;

use super::ctx::Ctx;
use super::params::{ExportQuery, Fingerprint, ListQuery, QueueName};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, Seg};

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/export/queues/{name}", get(queue))
        .route("/export/failed", get(failed))
        .route("/export/failed/groups/{fingerprint}", get(group))
        .route("/export/scheduled", get(scheduled))
        .route("/export/deferred", get(deferred))
        .route("/export/canceled", get(canceled))
}

type Fetch = BoxFuture<'static, engine::Result<Page<JobSummary>>>;

fn format(p: &Params) -> ApiResult<Format> {
    match p.0.get("format").map(String::as_str) {
        None | Some("") => Ok(Format::Csv),
        Some(s) => Format::parse(s)
            .ok_or_else(|| ApiError::bad_request("format must be csv, json or ndjson")),
    }
}

/// Exports one of a queue's lists.
#[utoipa::path(get, path = "/api/v1/export/queues/{name}", tag = "export",
    params(QueueName, ListQuery, ExportQuery), responses((status = 200, description = "The rows, streamed (`Content-Disposition: attachment`)",
        content((String = "text/csv"), (Vec<JobSummary> = "application/json"),
            (String = "application/x-ndjson")))))]
pub(super) async fn queue(State(c): Ctx, Seg(name): Seg, p: Params) -> ApiResult<Response> {
    let format = format(&p)?;
    let list = match p.0.get("list").map(String::as_str) {
        None | Some("") => JobList::Queued,
        Some(s) => JobList::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "list must be one of queued, started, finished, failed, deferred, scheduled, canceled",
            )
        })?,
    };
    engine::limits::validate_queue_name(&name)?;
    if !c.backend.queue_exists(&name).await? {
        return Err(ApiError::not_found(format!("no queue named {name:?}")));
    }
    let file = format!("queue-{name}-{}", list.as_str());
    let source = Paged::new(move |offset, limit| -> Fetch {
        let (c, name) = (c.clone(), name.clone());
        Box::pin(async move { c.backend.jobs(&name, list, offset, limit).await })
    });
    Ok(stream(source, format, &file))
}

/// Exports the failed jobs of every queue.
#[utoipa::path(get, path = "/api/v1/export/failed", tag = "export",
    params(ExportQuery), responses((status = 200, description = "The rows, streamed (`Content-Disposition: attachment`)",
        content((String = "text/csv"), (Vec<JobSummary> = "application/json"),
            (String = "application/x-ndjson")))))]
pub(super) async fn failed(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let format = format(&p)?;
    let source = Paged::new(move |offset, limit| -> Fetch {
        let c = c.clone();
        Box::pin(async move { c.backend.failed(None, offset, limit).await })
    });
    Ok(stream(source, format, "failed"))
}

/// Exports a failure group's jobs.
#[utoipa::path(get, path = "/api/v1/export/failed/groups/{fingerprint}", tag = "export",
    params(Fingerprint, ExportQuery), responses((status = 200, description = "The rows, streamed (`Content-Disposition: attachment`)",
        content((String = "text/csv"), (Vec<JobSummary> = "application/json"),
            (String = "application/x-ndjson")))))]
pub(super) async fn group(State(c): Ctx, Seg(fp): Seg, p: Params) -> ApiResult<Response> {
    let format = format(&p)?;
    if c.backend.failure_group(&fp).await?.is_none() {
        return Err(ApiError::not_found(format!("no failure group {fp:?}")));
    }
    let file = format!("failure-group-{fp}");
    let source = Paged::new(move |offset, limit| -> Fetch {
        let (c, fp) = (c.clone(), fp.clone());
        Box::pin(async move { c.backend.failure_group_jobs(&fp, offset, limit).await })
    });
    Ok(stream(source, format, &file))
}

/// Exports the scheduled jobs of every queue.
#[utoipa::path(get, path = "/api/v1/export/scheduled", tag = "export",
    params(ExportQuery), responses((status = 200, description = "The rows, streamed (`Content-Disposition: attachment`)",
        content((String = "text/csv"), (Vec<JobSummary> = "application/json"),
            (String = "application/x-ndjson")))))]
pub(super) async fn scheduled(c: Ctx, p: Params) -> ApiResult<Response> {
    across(c, p, JobList::Scheduled)
}

/// Exports the deferred jobs of every queue.
#[utoipa::path(get, path = "/api/v1/export/deferred", tag = "export",
    params(ExportQuery), responses((status = 200, description = "The rows, streamed (`Content-Disposition: attachment`)",
        content((String = "text/csv"), (Vec<JobSummary> = "application/json"),
            (String = "application/x-ndjson")))))]
pub(super) async fn deferred(c: Ctx, p: Params) -> ApiResult<Response> {
    across(c, p, JobList::Deferred)
}

/// Exports the canceled jobs of every queue.
#[utoipa::path(get, path = "/api/v1/export/canceled", tag = "export",
    params(ExportQuery), responses((status = 200, description = "The rows, streamed (`Content-Disposition: attachment`)",
        content((String = "text/csv"), (Vec<JobSummary> = "application/json"),
            (String = "application/x-ndjson")))))]
pub(super) async fn canceled(c: Ctx, p: Params) -> ApiResult<Response> {
    across(c, p, JobList::Canceled)
}

fn across(State(c): Ctx, p: Params, list: JobList) -> ApiResult<Response> {
    let format = format(&p)?;
    let source = Paged::new(move |offset, limit| -> Fetch {
        let c = c.clone();
        Box::pin(async move { c.backend.across(list, None, offset, limit).await })
    });
    Ok(stream(source, format, list.as_str()))
}

/// The streamed response: the encoder's start, one chunk per batch, its end.
pub fn stream<S: Source + 'static>(source: S, format: Format, what: &str) -> Response {
    enum Step<S> {
        Start(S, Encoder),
        Rows(S, Encoder),
        Done,
    }
    let body = futures::stream::unfold(
        Step::Start(source, Encoder::new(format)),
        |step| async move {
            match step {
                Step::Start(s, e) => Some((Ok(e.start()), Step::Rows(s, e))),
                Step::Rows(mut s, mut e) => match s.next_batch().await {
                    Ok(Some(rows)) => Some((Ok(e.batch(&rows)), Step::Rows(s, e))),
                    Ok(None) => Some((Ok(e.end()), Step::Done)),
                    Err(err) => {
                        tracing::warn!(error = %err, rows = e.rows(), "export aborted");
                        Some((Err(std::io::Error::other(err.to_string())), Step::Done))
                    }
                },
                Step::Done => None,
            }
        },
    );
    let file = format!("taskmill-{}.{}", file_part(what), format.extension());
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// A file-name part: ASCII letters, digits, `-` and `_`; anything else becomes `_`.
fn file_part(s: &str) -> String {
    s.chars()
        .take(80)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
