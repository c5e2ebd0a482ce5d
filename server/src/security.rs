//! Security middleware for every route: authentication (Basic for users, Bearer for API tokens),
//! the `Principal` recorded in audit entries, CSRF defence for mutations (Fetch Metadata + Origin
//! vs Host), read-only mode, a request-body limit, the signature on an action's flash message,
//! and the response headers (CSP & co.).
//!
//! Mutations are POSTs; GETs never change state, so only non-safe methods are checked for
//! cross-site origin. Pages need no CSRF token because a cross-site form POST always carries
//! `Origin` or `Sec-Fetch-Site` in the browsers we support.

use std::net::SocketAddr;
use std::sync::Arc;

use app::auth::Principal;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::error::{ApiError, ErrorCode};

pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'";

/// Largest request body accepted anywhere (API JSON, server-function forms).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Who may use the console. Empty = no authentication (only allowed on a loopback bind).
#[derive(Clone, Debug, Default)]
pub struct AuthConfig {
    /// `(name, password)` pairs for HTTP Basic auth.
    pub users: Vec<(String, String)>,
    /// Bearer tokens for scripts and the API.
    pub api_tokens: Vec<String>,
    /// Bearer token for `/metrics` only; when unset `/metrics` uses the normal credentials.
    pub metrics_token: Option<String>,
    /// `[[serve.users]]` of the config file: argon2 hashes.
    pub hashed_users: Vec<crate::password::HashedUser>,
    /// Basic credentials that matched a hash once (verifying costs tens of ms).
    pub verified: crate::password::Verified,
}

impl AuthConfig {
    pub fn enabled(&self) -> bool {
        !self.users.is_empty() || !self.api_tokens.is_empty() || !self.hashed_users.is_empty()
    }
}

/// Refuses to expose an unauthenticated console beyond this machine.
pub fn check_bind(bind: &SocketAddr, auth: &AuthConfig) -> Result<(), String> {
    if auth.enabled() || bind.ip().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "refusing to serve on {bind} without authentication: anyone who can reach it could \
         requeue or delete jobs. Add --user NAME:PASSWORD or --api-token TOKEN (or \
         TASKMILL_USERS / TASKMILL_API_TOKENS), or bind to 127.0.0.1"
    ))
}

/// Parses `NAME:PASSWORD`.
pub fn parse_user(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((name, pw)) if !name.is_empty() && !pw.is_empty() => {
            Ok((name.to_string(), pw.to_string()))
        }
        _ => Err("expected NAME:PASSWORD with both parts non-empty".to_string()),
    }
}

/// Per-request security settings, shared by the middleware layers.
#[derive(Clone, Debug)]
pub struct Guard {
    pub auth: AuthConfig,
    pub read_only: bool,
}

/// Outermost layer: the fixed security headers on every response, errors included.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let fixed: [(HeaderName, &'static str); 4] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// Authentication, then CSRF / read-only checks for mutations, then the body limit.
pub async fn guard(State(g): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut who = String::new();
    if path != "/healthz" {
        match authenticate(&g.auth, &path, req.headers()) {
            Ok(p) => {
                who = p.0.clone();
                req.extensions_mut().insert(p);
            }
            Err(res) => return res,
        }
    }
    if !is_safe(req.method()) {
        if let Err(e) = check_same_origin(req.headers()) {
            return e.into_response();
        }
        if g.read_only && path.starts_with("/api/") {
            // Server functions under /ui check the flag themselves: some of them are reads.
            return ApiError::new(ErrorCode::ReadOnly, "the console is read-only").into_response();
        }
    }
    match content_length(req.headers()) {
        Some(len) if len > BODY_LIMIT as u64 => return too_large(),
        Some(_) => {}
        // A streamed body: buffer it (≤ 64 KiB) so an oversized one is a 413 for every route,
        // including server functions, which would otherwise answer with their own redirect.
        None if !is_safe(req.method()) => {
            let (parts, body) = req.into_parts();
            match axum::body::to_bytes(body, BODY_LIMIT).await {
                Ok(bytes) => req = Request::from_parts(parts, axum::body::Body::from(bytes)),
                Err(_) => return too_large(),
            }
        }
        None => {}
    }
    let mutation = !is_safe(req.method());
    let mut res = next.run(req).await;
    if mutation {
        sign_flash(&mut res, &who);
    }
    // For the access log (`crate::access_log`), which runs outside this layer.
    res.extensions_mut().insert(crate::access_log::Who(who));
    res
}

/// Signs the flash message in an action's redirect (`app::components::flash`): pages show
/// only signed flashes, so a crafted `?err=` link can't put text into the console's alert box.
/// Only responses to mutations are signed, and mutations pass the CSRF check above, so only a
/// same-origin form post gets a signature.
fn sign_flash(res: &mut Response, who: &str) {
    if !res.status().is_redirection() {
        return;
    }
    let Some(location) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let now = engine::time::now() as u64;
    if let Some(signed) = app::components::flash::sign_location(location, who, now) {
        if let Ok(v) = HeaderValue::from_str(&signed) {
            res.headers_mut().insert(header::LOCATION, v);
        }
    }
}

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

pub fn too_large() -> Response {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("request body larger than {BODY_LIMIT} bytes"),
    )
    .into_response()
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[allow(clippy::result_large_err)]
fn authenticate(auth: &AuthConfig, path: &str, h: &HeaderMap) -> Result<Principal, Response> {
    let value = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if path == "/metrics" {
        if let Some(token) = &auth.metrics_token {
            return match value.and_then(|v| strip_scheme(v, "Bearer")) {
                Some(t) if ct_eq(t.as_bytes(), token.as_bytes()) => {
                    Ok(Principal("metrics".to_string()))
                }
                _ => Err(unauthorized(false)),
            };
        }
    }
    if !auth.enabled() {
        return Ok(Principal("local".to_string()));
    }
    if let Some(v) = value {
        if let Some(token) = strip_scheme(v, "Bearer") {
            if let Some(t) = auth
                .api_tokens
                .iter()
                .find(|t| ct_eq(t.as_bytes(), token.as_bytes()))
            {
                let prefix: String = t.chars().take(4).collect();
                return Ok(Principal(format!("token:{prefix}")));
            }
        } else if let Some(b64) = strip_scheme(v, "Basic") {
            if let Some((name, pw)) = decode_basic(b64) {
                // Compare against every user so timing does not reveal which names exist.
                let mut found = None;
                for (n, p) in &auth.users {
                    if ct_eq(n.as_bytes(), name.as_bytes()) & ct_eq(p.as_bytes(), pw.as_bytes()) {
                        found = Some(n.clone());
                    }
                }
                if found.is_none() && !auth.hashed_users.is_empty() {
                    found = auth.verified.check(&auth.hashed_users, b64, &name, &pw);
                }
                if let Some(n) = found {
                    return Ok(Principal(n));
                }
            }
        }
    }
    Err(unauthorized(
        !auth.users.is_empty() || !auth.hashed_users.is_empty(),
    ))
}

fn strip_scheme<'a>(v: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = v.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

fn decode_basic(b64: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (n, p) = text.split_once(':')?;
    Some((n.to_string(), p.to_string()))
}

/// Constant-time for equal lengths; a length mismatch returns early (lengths are not secret
/// enough to matter next to the network jitter).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unauthorized(basic: bool) -> Response {
    let mut res = ApiError::new(ErrorCode::Unauthorized, "authentication required").into_response();
    if basic {
        // Makes browsers show their login prompt for the pages.
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"taskmill\", charset=\"UTF-8\""),
        );
    }
    res
}

/// Rejects a mutation a browser sent on behalf of another site.
pub fn check_same_origin(h: &HeaderMap) -> Result<(), ApiError> {
    let refuse = |why: &str| Err(ApiError::new(ErrorCode::CrossSite, why.to_string()));
    if let Some(site) = h.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return refuse("cross-site request refused (Sec-Fetch-Site)");
        }
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin = origin.to_str().ok().and_then(origin_authority);
        match (origin, host) {
            (Some((scheme, o)), Some(host)) if same_authority(&scheme, &o, host) => {}
            _ => return refuse("cross-site request refused (Origin does not match Host)"),
        }
    }
    Ok(())
}

/// `http://Host:port` → (`http`, `host:port`), lower-cased; `null` or garbage → None.
fn origin_authority(origin: &str) -> Option<(String, String)> {
    let (scheme, rest) = origin.split_once("://")?;
    let authority = rest.split('/').next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
}

fn same_authority(scheme: &str, origin: &str, host: &str) -> bool {
    let default_port = match scheme {
        "https" => ":443",
        _ => ":80",
    };
    let norm = |a: &str| {
        let a = a.trim().to_ascii_lowercase();
        a.strip_suffix(default_port)
            .map(str::to_string)
            .unwrap_or(a)
    };
    norm(origin) == norm(host)
}

/// Converts an axum body-limit rejection into our JSON 413.
pub fn body_error(status: axum::http::StatusCode, text: String) -> ApiError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge, text)
    } else {
        ApiError::bad_request(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_matching() {
        assert!(same_authority("http", "127.0.0.1:9181", "127.0.0.1:9181"));
        assert!(same_authority("http", "example.com:80", "example.com"));
        assert!(same_authority("https", "example.com", "EXAMPLE.com:443"));
        assert!(!same_authority("http", "evil.com", "example.com"));
        assert!(!same_authority("http", "127.0.0.1:9182", "127.0.0.1:9181"));
        assert_eq!(origin_authority("null"), None);
        assert_eq!(
            origin_authority("http://A.b:1/x"),
            Some(("http".into(), "a.b:1".into()))
        );
    }

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

    #[test]
    fn bind_refusal() {
        let none = AuthConfig::default();
        assert!(check_bind(&"127.0.0.1:1".parse().unwrap(), &none).is_ok());
        assert!(check_bind(&"[::1]:1".parse().unwrap(), &none).is_ok());
        assert!(check_bind(&"0.0.0.0:1".parse().unwrap(), &none).is_err());
        let users = AuthConfig {
            users: vec![("a".into(), "b".into())],
            ..AuthConfig::default()
        };
        assert!(check_bind(&"0.0.0.0:1".parse().unwrap(), &users).is_ok());
    }

    #[test]
    fn user_parsing() {
        assert_eq!(parse_user("a:b:c"), Ok(("a".into(), "b:c".into())));
        assert!(parse_user("a").is_err());
        assert!(parse_user(":b").is_err());
    }
}
