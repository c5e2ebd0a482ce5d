//! History routes: `GET /stats/series` and `GET /stats/functions` (docs/contracts.md). Unknown
//! metric or range values are a 400 naming the allowed ones.

use std::sync::Arc;

use app::state::Console;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use engine::model::{FunctionStats, Series, StatsMetric, StatsRange};

use super::ctx::Ctx;
use super::params::{RangeQuery, SeriesQuery};
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/stats/series", get(series))
        .route("/stats/functions", get(functions))
}

fn range(p: &Params) -> ApiResult<StatsRange> {
    match p.0.get("range").map(String::as_str) {
        None | Some("") => Ok(StatsRange::default()),
        Some(s) => StatsRange::parse(s)
            .ok_or_else(|| ApiError::bad_request("range must be one of 1h, 24h, 7d, 30d")),
    }
}

/// One metric's history (sampled every interval, kept per range).
#[utoipa::path(get, path = "/api/v1/stats/series", tag = "stats",
    params(SeriesQuery), responses((status = 200, body = Series)))]
pub(super) async fn series(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let metric = match p.0.get("metric").map(String::as_str) {
        None | Some("") => return Err(ApiError::bad_request("metric is required")),
        Some(s) => StatsMetric::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "metric must be one of finished, failed, depth, latency, busy, idle, started",
            )
        })?,
    };
    let range = range(&p)?;
    let queue = match p.0.get("queue").map(String::as_str) {
        None | Some("") => None,
        Some(q) => {
            engine::limits::validate_queue_name(q)?;
            Some(q)
        }
    };
    Ok(Json(c.backend.stats_series(metric, queue, range).await?).into_response())
}

/// Per-function counts and duration histograms over the range.
#[utoipa::path(get, path = "/api/v1/stats/functions", tag = "stats",
    params(RangeQuery), responses((status = 200, body = Vec<FunctionStats>)))]
pub(super) async fn functions(State(c): Ctx, p: Params) -> ApiResult<Response> {
    let range = range(&p)?;
    Ok(Json(c.backend.stats_functions(range).await?).into_response())
}
