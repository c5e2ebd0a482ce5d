//! What a page, or an action's flash message, shows when it cannot do what was asked: the one
//! place where an `engine::Error` (by its kind) and a refused action become a page state and an
//! HTTP status. A leaf of the app: the pages, the panels and the actions all use it.

use axum::http::StatusCode;
use leptos::prelude::*;

/// What a page (or an action's flash) shows when it cannot do what was asked. Built from an
/// `engine::Error` by its kind in exactly one place (`From<engine::Error>` below), and mapped to
/// the HTTP status in exactly one place (`status`).
#[derive(Clone, Debug)]
pub enum PageError {
    /// Redis could not be reached; the next request simply retries.
    Unavailable(String),
    NotFound {
        title: String,
        detail: String,
    },
    BadRequest(String),
    /// Refused because of the current state (a confirmed count changed, a duplicate id).
    Conflict(String),
    /// `--read-only` (actions only).
    ReadOnly,
    /// Redis answered something the console could not use: a bug or corrupt data.
    Internal(String),
}

impl PageError {
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::NotFound { .. } => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::ReadOnly => StatusCode::FORBIDDEN,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The one-line text of a flash message.
    pub fn message(&self) -> String {
        match self {
            PageError::Unavailable(m) => format!("{m} Nothing was changed."),
            PageError::NotFound { detail, .. } => detail.clone(),
            PageError::BadRequest(m) | PageError::Conflict(m) => m.clone(),
            PageError::ReadOnly => crate::state::Refused::ReadOnly.to_string(),
            PageError::Internal(m) => format!("Action failed: {m}"),
        }
    }

    pub fn not_found(title: impl Into<String>, detail: impl Into<String>) -> PageError {
        PageError::NotFound {
            title: title.into(),
            detail: detail.into(),
        }
    }
}

impl From<engine::Error> for PageError {
    fn from(e: engine::Error) -> Self {
        use engine::ErrorKind as K;
        match e.kind() {
            K::Invalid => PageError::BadRequest(e.to_string()),
            K::NotFound => PageError::not_found("Not found", e.to_string()),
            K::Conflict => PageError::Conflict(e.to_string()),
            K::Unavailable => PageError::Unavailable(redis_error_text(&e)),
            K::NoReply => PageError::Conflict(e.to_string()),
            K::Internal => {
                tracing::error!(error = %e, "page failed");
                PageError::Internal(redis_error_text(&e))
            }
        }
    }
}

impl From<crate::state::Refused> for PageError {
    fn from(r: crate::state::Refused) -> Self {
        match r {
            crate::state::Refused::ReadOnly => PageError::ReadOnly,
            crate::state::Refused::Engine(e) => e.into(),
        }
    }
}

/// "Redis unreachable: ..." for connection failures, "Redis error: ..." otherwise.
pub fn redis_error_text(e: &engine::Error) -> String {
    if e.is_unavailable() {
        format!("Redis unreachable: {e}")
    } else {
        format!("Redis error: {e}")
    }
}

/// Sets the response status (leptos_axum applies it before the body is sent; pages render
/// with `SsrMode::Async`, so the whole page is known by then).
pub fn set_status(status: StatusCode) {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(status);
    }
}
