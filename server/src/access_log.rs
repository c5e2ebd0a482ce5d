//! The access log: one line per request on stderr (target `taskmill::access`), with the
//! method, path (no query string: it may carry ids an operator pasted, and it is in the
//! browser's history anyway), status, duration in milliseconds and the principal the security
//! layer authenticated (`-` when the request was refused before that). With `--log-format json`
//! each line is one JSON object whose `fields` hold these as separate keys.
//!
//! The outermost layer, so refusals (401, 403, 413) are logged too; the security layer hands
//! the principal out in the response's extensions ([`Who`]).

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The authenticated principal's name, set on the response by `security::guard`.
#[derive(Clone, Debug)]
pub struct Who(pub String);

pub async fn layer(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    // The path as the client sent it (before `/i/NAME` or a prefix was taken off).
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.path().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let res = next.run(req).await;
    let who = res
        .extensions()
        .get::<Who>()
        .map(|w| w.0.as_str())
        .filter(|w| !w.is_empty())
        .unwrap_or("-");
    let ms = (start.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    tracing::info!(
        target: "taskmill::access",
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        duration_ms = ms,
        principal = %who,
        "request"
    );
    res
}
