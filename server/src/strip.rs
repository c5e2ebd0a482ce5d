//! The one rewrite of HTML responses: the fixed inline `<script>`s leptos_axum appends to every
//! page are removed (the CSP refuses them; `boot.js` defines the same globals).

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};

/// Largest HTML page [`strip_inline_scripts`] buffers (pages are paginated: far below this).
const MAX_HTML: usize = 8 * 1024 * 1024;

/// Removes the fixed inline `<script>`s leptos_axum appends to every page
/// (`app::APPENDED_DATA_SCRIPTS`): the CSP refuses them anyway, `boot.js` defines the same
/// globals, and without this every page load logs CSP violations in the browser console.
/// Pages render in `SsrMode::Async`, so buffering the HTML costs no streaming.
pub async fn strip_inline_scripts(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_HTML).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "html response not rewritten");
            return ApiError::new(ErrorCode::Internal, "page too large").into_response();
        }
    };
    let inners = app::APPENDED_DATA_SCRIPTS.map(|s| s.strip_prefix("<script>").unwrap_or(s));
    let html = strip_scripts(&bytes, &inners);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(html))
}

/// Removes every `<script>INNER` and `<script nonce="...">INNER` (leptos_axum adds a fresh
/// nonce per request) for each `INNER` of `inners`, where `INNER` includes the closing tag.
/// Other scripts are kept. One pass over the bytes (a page is tens of KiB).
pub fn strip_scripts(html: &[u8], inners: &[&str]) -> Vec<u8> {
    const OPEN: &[u8] = b"<script";
    let finder = memchr::memmem::Finder::new(OPEN);
    let mut out = Vec::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = finder.find(rest) {
        let after = &rest[i + OPEN.len()..];
        let Some(close) = memchr::memchr(b'>', after) else {
            break;
        };
        let (attrs, body) = (&after[..close], &after[close + 1..]);
        out.extend_from_slice(&rest[..i]);
        let inner = inners
            .iter()
            .find(|inner| body.starts_with(inner.as_bytes()))
            .filter(|_| is_nonce_attr(attrs));
        match inner {
            Some(inner) => rest = &body[inner.len()..],
            None => {
                out.extend_from_slice(OPEN);
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest);
    out
}

/// `""` or ` nonce="<base64url>"`.
fn is_nonce_attr(attrs: &[u8]) -> bool {
    if attrs.is_empty() {
        return true;
    }
    attrs
        .strip_prefix(b" nonce=\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .is_some_and(|v| {
            v.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_the_data_scripts() {
        let strip = |html: &str, inners: &[&str]| {
            String::from_utf8(strip_scripts(html.as_bytes(), inners)).unwrap()
        };
        let inner = "__X=[];</script>";
        let html = r#"<p>a</p><script nonce="Ab-_9">__X=[];</script><script>__X=[];</script><script type="module" src="/boot.js"></script><script>keep()</script>"#;
        assert_eq!(
            strip(html, &[inner]),
            r#"<p>a</p><script type="module" src="/boot.js"></script><script>keep()</script>"#
        );
        assert_eq!(strip("<script", &[inner]), "<script");
        let odd = r#"<script nonce="a b">__X=[];</script>"#;
        assert_eq!(strip(odd, &[inner]), odd);
        // Several kinds in one pass, in any order; text around them is untouched.
        let two = "x<script>__Y=1;</script>é<script>__X=[];</script>z";
        assert_eq!(strip(two, &[inner, "__Y=1;</script>"]), "xéz");
        let leptos: Vec<&str> = app::APPENDED_DATA_SCRIPTS
            .iter()
            .map(|s| s.strip_prefix("<script>").unwrap())
            .collect();
        let page = format!("<body>ok</body>{}", app::APPENDED_DATA_SCRIPTS.join(""));
        assert_eq!(strip(&page, &leptos), "<body>ok</body>");
    }
}
