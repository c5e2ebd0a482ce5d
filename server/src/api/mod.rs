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
//! - `events`  — `/events`: the live feed as server-sent events.
//! - `stats`   — history series and per-function durations.

mod ctx;
mod events;
mod groups;
mod jobs;
mod queues;
mod reads;
mod stats;
mod workers;

use std::sync::Arc;

use app::state::Console;
use axum::Router;

use crate::error::{ApiError, ErrorCode};

pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .merge(reads::routes())
        .merge(queues::routes())
        .merge(jobs::routes())
        .merge(groups::routes())
        .merge(workers::routes())
        .merge(events::routes())
        .merge(stats::routes())
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
