//! Security middleware for every route: authentication (Basic for users, Bearer for API tokens),
//! the `Principal` recorded in audit entries and its `Role` (checked against `app::auth::required`
//! for every mutation: 403 `forbidden`), failed-login throttling (`crate::throttle`: 429 with
//! Retry-After), CSRF defence for mutations, read-only mode, a request-body limit, the signature
//! on an action's flash message, and the response headers (CSP & co.). Every refusal of a
//! credential or a role is written to the audit log. Mutations are POSTs; GETs never change
//! state, so only non-safe methods are checked for cross-site origin (`crate::origin`).
//! HTML pages are cleaned by `crate::strip`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use app::auth::{Principal, Role};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::error::{ApiError, ErrorCode};
use crate::throttle::{Key, Throttle};

pub use crate::origin::check_same_origin;
pub use crate::strip::{strip_inline_scripts, strip_scripts};

pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'";

/// Largest request body accepted anywhere (API JSON, server-function forms).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Who may use the console. Empty = no authentication (only allowed on a loopback bind).
#[derive(Clone, Debug, Default)]
pub struct AuthConfig {
    /// `--user NAME:PASSWORD[:ROLE]` for HTTP Basic auth.
    pub users: Vec<User>,
    /// `--api-token TOKEN[:ROLE]`: Bearer tokens for scripts and the API.
    pub api_tokens: Vec<Token>,
    /// Bearer token for `/metrics` only; when unset `/metrics` uses the normal credentials.
    pub metrics_token: Option<String>,
    /// `[[serve.users]]` of the config file: argon2 hashes.
    pub hashed_users: Vec<crate::password::HashedUser>,
    /// Basic credentials that matched a hash once (verifying costs tens of ms).
    pub verified: crate::password::Verified,
    /// Failed logins per client and per user.
    pub throttle: Throttle,
}

/// A `--user NAME:PASSWORD[:ROLE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: String,
    pub role: Role,
}

impl User {
    pub fn new(name: &str, password: &str, role: Role) -> User {
        User {
            name: name.into(),
            password: password.into(),
            role,
        }
    }
}

/// An `--api-token TOKEN[:ROLE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub token: String,
    pub role: Role,
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

/// The role given when none is written: everyone had every power before roles existed.
pub const DEFAULT_ROLE: Role = Role::Admin;

/// `…:viewer` / `…:operator` / `…:admin` → (`…`, role); anything else → (all of it, None).
fn split_role(s: &str) -> (&str, Option<Role>) {
    match s.rsplit_once(':') {
        Some((head, tail)) => match tail.parse() {
            Ok(role) => (head, Some(role)),
            Err(_) => (s, None),
        },
        None => (s, None),
    }
}

/// Parses `NAME:PASSWORD[:ROLE]`. A last `:viewer`, `:operator` or `:admin` is the role
/// (default admin), unless nothing would be left for the password (`alice:admin` is the
/// password `admin`).
pub fn parse_user(s: &str) -> Result<User, String> {
    let (head, role) = match split_role(s) {
        (head, Some(role)) if head.contains(':') => (head, role),
        _ => (s, DEFAULT_ROLE),
    };
    match head.split_once(':') {
        Some((name, pw)) if !name.is_empty() && !pw.is_empty() => Ok(User::new(name, pw, role)),
        _ => Err("expected NAME:PASSWORD[:ROLE] with name and password non-empty".to_string()),
    }
}

/// Parses `TOKEN[:ROLE]` (default admin).
pub fn parse_token(s: &str) -> Result<Token, String> {
    let (token, role) = split_role(s);
    if token.is_empty() {
        return Err("expected TOKEN[:ROLE] with a non-empty token".to_string());
    }
    Ok(Token {
        token: token.to_string(),
        role: role.unwrap_or(DEFAULT_ROLE),
    })
}

/// Per-request security settings, shared by the middleware layers.
#[derive(Clone)]
pub struct Guard {
    pub auth: AuthConfig,
    pub read_only: bool,
    pub origins: crate::origin::OriginPolicy,
    /// Where refusals are recorded (the console's audit log); None in unit tests.
    pub audit: Option<engine::Store>,
}

impl Guard {
    /// Writes a refusal to the audit log (in the background: the answer does not wait for
    /// Redis) and to the log.
    fn refused(&self, who: &str, action: &str, target: String) {
        tracing::warn!(who, action, target = %target, "refused");
        let Some(store) = self.audit.clone() else {
            return;
        };
        let entry = engine::model::AuditEntry {
            at: engine::time::now(),
            who: who.to_string(),
            action: action.to_string(),
            target,
            count: 0,
        };
        tokio::spawn(async move {
            if let Err(e) = engine::audit::record(&store, &entry).await {
                tracing::warn!(error = %e, "could not write the audit record of a refusal");
            }
        });
    }
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
    let mut role = Role::Viewer;
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let method = req.method().clone();
    let target = || {
        let from = client.map(|ip| format!(" from {ip}")).unwrap_or_default();
        format!("{method} {path}{from}")
    };
    if path != "/healthz" {
        match authenticate(&g.auth, &path, req.headers(), client).await {
            Ok((p, r)) => {
                who = p.0.clone();
                role = r;
                req.extensions_mut().insert(p);
                req.extensions_mut().insert(r);
            }
            Err(refusal) => {
                if let Some((claimed, action)) = refusal.audit {
                    g.refused(&claimed, action, target());
                }
                return refusal.response;
            }
        }
    }
    if !is_safe(req.method()) {
        if let Err(e) = check_same_origin(req.headers(), &g.origins) {
            return e.into_response();
        }
        let need = app::auth::required(&path);
        if role < need && path != "/healthz" {
            g.refused(&who, "forbidden", format!("{} (needs {need})", target()));
            let msg = format!("{path} needs the {need} role; {who} is {role}");
            return ApiError::new(ErrorCode::Forbidden, msg).into_response();
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

/// Why a request was not authenticated: the answer, and for a credential that was tried and
/// refused, (the name it claimed, the audit action).
struct Refusal {
    response: Response,
    audit: Option<(String, &'static str)>,
}

/// The caller and its role. Basic and Bearer credentials go through the throttle: a client or
/// user locked out is refused (429) before its password is even checked.
async fn authenticate(
    auth: &AuthConfig,
    path: &str,
    h: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<(Principal, Role), Refusal> {
    let basic_realm = !auth.users.is_empty() || !auth.hashed_users.is_empty();
    let plain = |response| Refusal {
        response,
        audit: None,
    };
    let value = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if path == "/metrics" {
        if let Some(token) = &auth.metrics_token {
            return match value.and_then(|v| strip_scheme(v, "Bearer")) {
                Some(t) if ct_eq(t.as_bytes(), token.as_bytes()) => {
                    Ok((Principal("metrics".to_string()), Role::Viewer))
                }
                _ => Err(plain(unauthorized(false))),
            };
        }
    }
    if !auth.enabled() {
        return Ok((Principal("local".to_string()), Role::Admin));
    }
    enum Claim<'a> {
        Token(&'a str),
        Basic(&'a str, String, String),
    }
    let claim = match value {
        Some(v) => match (strip_scheme(v, "Bearer"), strip_scheme(v, "Basic")) {
            (Some(t), _) => Some(Claim::Token(t)),
            (_, Some(b64)) => decode_basic(b64).map(|(n, p)| Claim::Basic(b64, n, p)),
            _ => None,
        },
        None => None,
    };
    let Some(claim) = claim else {
        return Err(plain(unauthorized(basic_realm)));
    };
    let mut keys: Vec<Key> = client.map(Key::Client).into_iter().collect();
    let claimed = match &claim {
        Claim::Token(_) => "token".to_string(),
        Claim::Basic(_, name, _) => {
            keys.push(Key::User(name.clone()));
            name.clone()
        }
    };
    if let Err(locked) = auth.throttle.check(&keys) {
        return Err(Refusal {
            response: too_many_attempts(locked.retry_after),
            audit: locked.first.then_some((claimed, "login-throttled")),
        });
    }
    let found = match claim {
        Claim::Token(token) => auth
            .api_tokens
            .iter()
            .find(|t| ct_eq(t.token.as_bytes(), token.as_bytes()))
            .map(|t| {
                let prefix: String = t.token.chars().take(4).collect();
                (Principal(format!("token:{prefix}")), t.role)
            }),
        Claim::Basic(b64, name, pw) => {
            // Compare against every user so timing does not reveal which names exist.
            let mut found = None;
            for u in &auth.users {
                if ct_eq(u.name.as_bytes(), name.as_bytes())
                    & ct_eq(u.password.as_bytes(), pw.as_bytes())
                {
                    found = Some((Principal(u.name.clone()), u.role));
                }
            }
            if found.is_none() && !auth.hashed_users.is_empty() {
                found = auth
                    .verified
                    .check(&auth.hashed_users, b64, &name, &pw)
                    .and_then(|n| auth.hashed_users.iter().find(|u| u.name == n))
                    .map(|u| (Principal(u.name.clone()), u.role.unwrap_or(DEFAULT_ROLE)));
            }
            found
        }
    };
    match found {
        Some(ok) => {
            auth.throttle.succeeded(&keys);
            Ok(ok)
        }
        None => {
            let delay = auth.throttle.failed(&keys);
            tokio::time::sleep(delay).await;
            Err(Refusal {
                response: unauthorized(basic_realm),
                audit: Some((claimed, "login-failed")),
            })
        }
    }
}

/// 429 with `Retry-After` in whole seconds (rounded up).
fn too_many_attempts(wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut res = ApiError::new(
        ErrorCode::TooManyRequests,
        format!("too many failed logins; retry in {secs} s"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
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
    fn bind_refusal() {
        let none = AuthConfig::default();
        assert!(check_bind(&"127.0.0.1:1".parse().unwrap(), &none).is_ok());
        assert!(check_bind(&"[::1]:1".parse().unwrap(), &none).is_ok());
        assert!(check_bind(&"0.0.0.0:1".parse().unwrap(), &none).is_err());
        let users = AuthConfig {
            users: vec![User::new("a", "b", Role::Viewer)],
            ..AuthConfig::default()
        };
        assert!(check_bind(&"0.0.0.0:1".parse().unwrap(), &users).is_ok());
    }

    #[test]
    fn user_parsing() {
        assert_eq!(parse_user("a:b:c"), Ok(User::new("a", "b:c", DEFAULT_ROLE)));
        assert_eq!(
            parse_user("a:b:viewer"),
            Ok(User::new("a", "b", Role::Viewer))
        );
        assert_eq!(
            parse_user("a:b:c:operator"),
            Ok(User::new("a", "b:c", Role::Operator))
        );
        assert_eq!(
            parse_user("a:admin"),
            Ok(User::new("a", "admin", DEFAULT_ROLE))
        );
        assert!(parse_user("a").is_err());
        assert!(parse_user(":b").is_err());
        assert!(parse_user("a::viewer").is_err());
        let t = parse_token("tok:en:viewer").unwrap();
        assert_eq!((t.token.as_str(), t.role), ("tok:en", Role::Viewer));
        assert_eq!(parse_token("tok").unwrap().role, DEFAULT_ROLE);
        assert!(parse_token(":viewer").is_err());
    }
}
