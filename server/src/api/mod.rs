//! The JSON API under `/api/v1` (docs/contracts.md). Each route only translates: path, query
//! and body into a backend read or an `engine::actions::Action`, and the answer into JSON.
//! Actions go through `Console::perform` (read-only gate, validation, one atomic call, audit
//! record, fresh snapshot), the same door the console's forms use.
//!
//! - `ctx`     — the shared state extractor and `perform` (leaf: the route files import it).
//! - `reads`   — overview, queues, one queue's lists, failed, audit.
//! - `queues`  — enqueue, empty, requeue-failed, requeue-all.
//! - `groups`  — failure groups, a group's jobs, requeue / delete a group.
//! - `jobs`    — job detail, single and bulk job actions.
//! - `workers` — worker list and commands, suspend / resume.
//! - `stats`   — history series and per-function durations.
//! - `events`  — `/events`: the live feed as server-sent events.
//! - `search`  — search pages with a cursor; requeue / delete / cancel the matches.
//! - `across`  — scheduled, deferred (with dependencies) and canceled across queues.
//! - `export`  — any list streamed as CSV / JSON / NDJSON.
//! - `chords`  — concurrency / rate limits in use; chords (RQ groups with a callback).
//! - `cron`    — cron schedulers and their jobs, run a cron job now.
//! - `celery`  — Celery queues, workers, tasks and their actions (`--celery-broker`).
//! - `params`  — path and query parameters with their constraints, for the OpenAPI document.
//! - `doc`     — `/openapi.json`: the OpenAPI 3.1 document generated from the routes' types.

mod across;
mod celery;
mod chords;
mod cron;
mod ctx;
pub mod doc;
mod events;
mod export;
mod groups;
mod jobs;
mod params;
mod queues;
mod reads;
mod search;
mod stats;
mod workers;

use std::sync::Arc;

use app::state::Console;
use axum::routing::get;
use axum::Router;

use crate::error::{ApiError, ErrorCode};

pub fn router(console: Arc<Console>, fleet: Arc<app::state::Fleet>) -> Router {
    // The console's Redis instances (one, or several with `--redis NAME=URL`).
    let instances = Router::new()
        .route("/instances", get(crate::instances::api))
        .with_state(fleet);
    Router::new()
        .route("/openapi.json", get(doc::openapi_json))
        .merge(reads::routes())
        .merge(queues::routes())
        .merge(jobs::routes())
        .merge(groups::routes())
        .merge(workers::routes())
        .merge(stats::routes())
        .merge(events::routes())
        .merge(search::routes())
        .merge(across::routes())
        .merge(export::routes())
        .merge(chords::routes())
        .merge(cron::routes())
        .merge(celery::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(console)
        .merge(instances)
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
