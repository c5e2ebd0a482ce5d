//! Who is acting and what they may do. The server's auth middleware inserts a `Principal` (the
//! Basic-auth user name, or a token label) and a [`Role`] into the request extensions; pages and
//! server functions read them back from the request `Parts` that leptos_axum provides as context.
//!
//! Roles are checked by URL: [`required`] is the one table saying which role a mutation needs,
//! used by the server to refuse (403 `forbidden`) and by the forms in `components::forms` to
//! hide the buttons a role can't use. A mutation missing from the table needs `admin`.

use std::fmt;
use std::str::FromStr;

/// The authenticated caller's display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal(pub String);

/// Name recorded when the server runs without authentication.
pub const ANONYMOUS: &str = "anonymous";

/// What a caller may do; each role includes the ones below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads every page and API route; no actions.
    Viewer,
    /// Everything that puts work back or stops it: requeue, cancel, enqueue, stop a job, run a
    /// cron job, Celery revoke / retry.
    Operator,
    /// Destructive and console-wide actions: every delete, empty a queue, worker and Celery
    /// shutdown, scale, suspend / resume, Celery pool and limit settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?} (viewer, operator or admin)"))
    }
}

/// Server functions that only read (live widgets, charts): open to every role.
const READ_FNS: [&str; 4] = ["/ui/live", "/ui/job_head", "/ui/rows", "/ui/chart"];

/// Mutations an operator may post (`*` = one path segment).
const OPERATOR: &[&str] = &[
    "/ui/requeue",
    "/ui/cancel",
    "/ui/enqueue-now",
    "/ui/stop",
    "/ui/kill-horse",
    "/ui/requeue-search",
    "/ui/cancel-search",
    "/ui/requeue-queue",
    "/ui/requeue-all",
    "/ui/requeue-group",
    "/ui/run-cron",
    "/ui/celery-revoke",
    "/ui/celery-retry",
    "/api/v1/jobs/*/requeue",
    "/api/v1/jobs/*/cancel",
    "/api/v1/jobs/*/enqueue-now",
    "/api/v1/jobs/*/stop",
    "/api/v1/jobs/requeue",
    "/api/v1/jobs/cancel",
    "/api/v1/jobs/enqueue-now",
    "/api/v1/queues/*/enqueue",
    "/api/v1/queues/*/requeue-failed",
    "/api/v1/failed/requeue-all",
    "/api/v1/failed/groups/*/requeue",
    "/api/v1/search/requeue",
    "/api/v1/search/cancel",
    "/api/v1/workers/*/kill-horse",
    "/api/v1/groups",
    "/api/v1/cron/*/run",
    "/api/v1/celery/tasks/*/revoke",
    "/api/v1/celery/tasks/*/retry",
];

/// The role a non-GET request to `path` needs. Everything not listed as a read or an operator
/// action needs `admin`: deletes, empty, shutdowns, scale, suspend / resume, Celery settings,
/// and anything added later until it is classified here.
pub fn required(path: &str) -> Role {
    if READ_FNS.contains(&path) {
        Role::Viewer
    } else if OPERATOR.iter().any(|p| matches(p, path)) {
        Role::Operator
    } else {
        Role::Admin
    }
}

fn matches(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('/');
    let mut s = path.trim_end_matches('/').split('/');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return true,
            (Some("*"), Some(seg)) if !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;

    fn parts() -> Option<axum::http::request::Parts> {
        leptos::prelude::use_context::<axum::http::request::Parts>()
    }

    /// The current request's principal, or `anonymous`.
    pub fn current() -> String {
        parts()
            .and_then(|parts| parts.extensions.get::<Principal>().map(|p| p.0.clone()))
            .unwrap_or_else(|| ANONYMOUS.to_string())
    }

    /// The current request's role. Without one in the request (no authentication configured,
    /// or rendering outside a request) every power is granted: the server's guard is what
    /// refuses, and it always sets the role when users exist.
    pub fn role() -> Role {
        parts()
            .and_then(|parts| parts.extensions.get::<Role>().copied())
            .unwrap_or(Role::Admin)
    }

    /// Whether the current caller may post to `url` (hide the button when not).
    pub fn may_post(url: &str) -> bool {
        role() >= required(url)
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{current, may_post, role};

/// In the browser (islands that re-render rows): the role the server wrote on `<body
/// data-role>` decides which forms render; without one (no authentication) every form does.
/// The server's guard is what refuses either way.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn may_post(url: &str) -> bool {
    let role = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
        .and_then(|b| b.get_attribute("data-role"))
        .and_then(|r| r.parse::<Role>().ok())
        .unwrap_or(Role::Admin);
    role >= required(url)
}

/// Neither server nor browser (plain unit builds): every form renders.
#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
pub fn may_post(_url: &str) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_table() {
        assert_eq!(required("/ui/live"), Role::Viewer);
        assert_eq!(required("/ui/requeue"), Role::Operator);
        assert_eq!(required("/api/v1/jobs/abc/requeue"), Role::Operator);
        assert_eq!(required("/api/v1/jobs/abc/delete"), Role::Admin);
        assert_eq!(required("/api/v1/jobs//requeue"), Role::Admin);
        assert_eq!(required("/api/v1/workers/w1/shutdown"), Role::Admin);
        assert_eq!(required("/ui/delete-search"), Role::Admin);
        assert_eq!(required("/ui/something-new"), Role::Admin);
        assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
        assert_eq!("operator".parse::<Role>(), Ok(Role::Operator));
        assert!("root".parse::<Role>().is_err());
    }
}
