//! What every API route shares: the console as axum state, and `perform`.

use std::sync::Arc;

use app::state::{Console, Refused};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::actions::{Action, Outcome};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::JsonBody;

pub type Ctx = State<Arc<Console>>;

/// Runs `action` for `who` and answers with the outcome as JSON.
pub async fn perform(c: &Console, who: &str, action: Action) -> ApiResult<Response> {
    Ok(Json(outcome(c, who, action).await?).into_response())
}

/// Runs `action` for `who`; the outcome for routes that answer something else.
pub async fn outcome(c: &Console, who: &str, action: Action) -> ApiResult<Outcome> {
    c.perform(action, who).await.map_err(|r| match r {
        Refused::ReadOnly => ApiError::new(ErrorCode::ReadOnly, r.to_string()),
        Refused::Engine(e) => e.into(),
    })
}

/// Optional body of the bulk actions (queue, requeue-all, failure group): `{"expected": N}`
/// refuses with 409 `conflict` unless the live count is exactly N, as the console's
/// confirmation does.
#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The count the caller confirmed.
    expected: Option<u64>,
}

/// The confirmed count of an optional [`Confirm`] body.
pub fn expected(body: JsonBody<Confirm>) -> Option<u64> {
    body.0.unwrap_or_default().expected
}

/// What a bulk action taking `?dry_run=1` would touch (nothing changed, nothing audited).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DryRunCount {
    pub count: u64,
    /// Always `true`.
    pub dry_run: bool,
}

impl DryRunCount {
    pub fn response(count: u64) -> Response {
        Json(DryRunCount {
            count,
            dry_run: true,
        })
        .into_response()
    }
}

/// The answer of a bulk action taking `?dry_run=1`: the count, or what the action did.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Named by the OpenAPI document; the routes answer with either half.
pub enum Acted {
    DryRun(DryRunCount),
    Done(Outcome),
}
