//! Who is acting, for audit records. The server's auth middleware inserts a `Principal` into the
//! request extensions (the Basic-auth user name, or a token label); pages and server functions
//! read it back from the request `Parts` that leptos_axum provides as context.

/// The authenticated caller's display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal(pub String);

/// Name recorded when the server runs without authentication.
pub const ANONYMOUS: &str = "anonymous";

/// The current request's principal, or `anonymous`.
pub fn current() -> String {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>().map(|p| p.0.clone()))
        .unwrap_or_else(|| ANONYMOUS.to_string())
}
