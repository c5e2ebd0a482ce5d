//! Extractors whose rejections are our JSON errors (axum's own reply in plain text), plus the
//! shared parsing of ids, queue names and paging parameters.

use std::collections::HashMap;

use app::auth::Principal;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::security::body_error;

/// Default and largest page size of the API.
pub const DEFAULT_LIMIT: u64 = 25;
pub const MAX_LIMIT: u64 = engine::registry::MAX_PAGE;

/// One path segment, percent-decoded.
pub struct Seg(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Seg {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Seg> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(s)) => Ok(Seg(s)),
            Err(e) => Err(ApiError::bad_request(format!("bad path: {e}"))),
        }
    }
}

/// The query string as a map (repeated keys: the last wins).
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Params> {
        match Query::<HashMap<String, String>>::try_from_uri(&parts.uri) {
            Ok(Query(m)) => Ok(Params(m)),
            Err(e) => Err(ApiError::bad_request(format!("bad query string: {e}"))),
        }
    }
}

impl Params {
    fn num(&self, key: &str, default: u64) -> ApiResult<u64> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) if v.is_empty() => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad_request(format!("{key} must be a non-negative integer"))
            }),
        }
    }

    /// `offset` (default 0) and `limit` (default 25, 1..=500).
    pub fn window(&self) -> ApiResult<(u64, u64)> {
        let offset = self.num("offset", 0)?;
        let limit = self.num("limit", DEFAULT_LIMIT)?;
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        // Redis list indexes are signed 64-bit; keep offset + limit well inside that.
        if offset > i64::MAX as u64 / 2 {
            return Err(ApiError::bad_request("offset too large"));
        }
        Ok((offset, limit))
    }
}

/// A JSON body of at most `BODY_LIMIT` bytes, any content type; an empty body (or `null`) is
/// `None`.
pub struct JsonBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> ApiResult<JsonBody<T>> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(None));
        }
        // `null` is no body too (an optional body's schema says so).
        serde_json::from_slice::<Option<T>>(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

impl<T> JsonBody<T> {
    pub fn required(self) -> ApiResult<T> {
        self.0
            .ok_or_else(|| ApiError::bad_request("a JSON body is required"))
    }
}

/// Who is acting, for the audit log (set by the security middleware).
pub struct Who(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Who {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Who> {
        let who = parts
            .extensions
            .get::<Principal>()
            .map(|p| p.0.clone())
            .unwrap_or_else(|| "local".to_string());
        Ok(Who(who))
    }
}

/// `{"ids": [...]}` (bounds checked by the engine: `engine::limits::validate_ids`).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ids {
    #[schema(min_items = 1, max_items = 1000)]
    pub ids: Vec<String>,
}
