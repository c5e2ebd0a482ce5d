//! `--url-prefix`: the outermost layer maps browser paths to app paths. A request under the
//! base (`/taskmill/queues/x`) continues with the base cut off its URI (`/queues/x`), so routes,
//! handlers, the role table and the access log all see app paths; the `app::url::Base` goes
//! into the request's extensions, where pages read it to write their links (`app::url`).
//! Anything outside the base is a 404, except a bare `GET /`, which redirects to the base.
//!
//! One layer decides the base of a request; a later per-request segment (e.g. an instance
//! name after the prefix) would be cut here too and make the `Base` longer.

use std::sync::Arc;

use app::url::Base;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};

/// Strips `base` from the request path (see the module docs).
pub async fn layer(State(base): State<Arc<Base>>, mut req: Request, next: Next) -> Response {
    if base.as_str().is_empty() {
        req.extensions_mut().insert(Base::default());
        return next.run(req).await;
    }
    let path = req.uri().path();
    let Some(app_path) = base.strip(path) else {
        if path == "/" && matches!(*req.method(), Method::GET | Method::HEAD) {
            let to = base.href("/");
            let mut res = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&to) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            return res;
        }
        let msg = format!("no such route; the console is under {}/", base.as_str());
        return ApiError::new(ErrorCode::NotFound, msg).into_response();
    };
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{app_path}?{q}"),
        None => app_path.to_string(),
    };
    if !reroute(&mut req, &path_and_query) {
        return ApiError::bad_request("unreadable request path").into_response();
    }
    req.extensions_mut().insert(Base::clone(&base));
    next.run(req).await
}

/// Gives `req` the app path `path_and_query` (false: not a valid URI), keeping the URI the
/// client sent as `OriginalUri`, so logs still show it. Used here and by `instances`.
pub fn reroute(req: &mut Request, path_and_query: &str) -> bool {
    if req.extensions().get::<OriginalUri>().is_none() {
        let original = OriginalUri(req.uri().clone());
        req.extensions_mut().insert(original);
    }
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    match Uri::from_parts(parts) {
        Ok(uri) => {
            *req.uri_mut() = uri;
            true
        }
        Err(_) => false,
    }
}
