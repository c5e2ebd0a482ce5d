//! API errors: one status table, serialised as `{"code": "...", "message": "..."}`.
//!
//! Bad input is always a 4xx; a 5xx means Redis is unreachable (503) or Redis answered
//! something the engine could not use (500, a bug or corrupt data, never the caller's fault).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    ReadOnly,
    CrossSite,
    /// The caller's role may not do this (`app::auth::required`).
    Forbidden,
    /// Too many failed logins from this client or for this user (`crate::throttle`).
    TooManyRequests,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    RedisUnavailable,
    Internal,
    /// A Celery control command got no reply before its deadline.
    NoReply,
}

impl ErrorCode {
    /// The single status table of the API (docs/contracts.md mirrors it).
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::ReadOnly | ErrorCode::CrossSite | ErrorCode::Forbidden => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RedisUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::NoReply => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::ReadOnly => "read_only",
            ErrorCode::CrossSite => "cross_site",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RedisUnavailable => "redis_unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::NoReply => "no_reply",
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

/// Every error answer of the API.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// Stable: `bad_request`, `unauthorized`, `read_only`, `cross_site`, `forbidden`,
    /// `too_many_requests`, `not_found`, `method_not_allowed`, `conflict`,
    /// `payload_too_large`, `redis_unavailable`, `internal`, `no_reply`.
    #[schema(example = "not_found")]
    pub code: &'a str,
    /// For people: what was wrong.
    pub message: &'a str,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::BadRequest, message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&ErrorBody {
            code: self.code.as_str(),
            message: &self.message,
        })
        .unwrap_or_else(|_| "{}".to_string());
        let mut res = (self.code.status(), body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    }
}

/// The one mapping of an engine error's kind to an API code (and so a status).
impl From<engine::Error> for ApiError {
    fn from(e: engine::Error) -> ApiError {
        use engine::ErrorKind as K;
        let code = match e.kind() {
            K::Invalid => ErrorCode::BadRequest,
            K::NotFound => ErrorCode::NotFound,
            K::Conflict => ErrorCode::Conflict,
            K::Unavailable => ErrorCode::RedisUnavailable,
            K::Internal => ErrorCode::Internal,
            K::NoReply => ErrorCode::NoReply,
        };
        if code == ErrorCode::Internal {
            tracing::error!(error = %e, "engine error");
        }
        let message = match code {
            // The raw redis error can carry the server address; the operator sees it in logs.
            ErrorCode::RedisUnavailable => {
                tracing::warn!(error = %e, "redis unavailable");
                "Redis is unreachable".to_string()
            }
            _ => e.to_string(),
        };
        ApiError::new(code, message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
