//! The one place a browser-facing URL gets the console's base path (`--url-prefix`, e.g.
//! `/taskmill` behind a proxy; empty by default).
//!
//! Routes, server functions, the role table (`crate::auth::required`) and every path builder
//! (`format::job_href`, pagers, `return_to` fields) work with *app paths* (`/queues/x`); the
//! server strips the base from each request before routing. What the browser sees goes
//! through [`href`] exactly once: link and form attributes, asset tags, redirects, the live
//! feed's URL and (through `server_fn`'s root URL) the islands' server-function calls.
//!
//! The base is per request: the server puts a [`Base`] into the request's extensions and pages
//! read it from the request `Parts` leptos_axum provides as context (like the caller's role),
//! and the page writes it on `<body data-base>` for the browser. A later per-request segment
//! (e.g. an instance) only has to make the server insert a longer `Base`.

/// A base path: empty, or `/` followed by segments, without a trailing `/`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Base(String);

impl Base {
    /// `/taskmill/`, `taskmill`, `/taskmill` → `/taskmill`; ``, `/` → none. Refuses what could
    /// not be a plain path prefix (query, fragment, `..`, empty segments, spaces, quotes, ...).
    pub fn parse(text: &str) -> Result<Base, String> {
        let t = text.trim().trim_matches('/');
        if t.is_empty() {
            return Ok(Base::default());
        }
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "-._~!$()*+,;=:@%".contains(c);
        let segments_ok = t
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && s.chars().all(ok_char));
        if !segments_ok {
            return Err(format!(
                "{text:?} is not a URL path prefix (expected e.g. /taskmill: letters, digits, \
                 '-', '_', '.', '~' in non-empty segments separated by '/')"
            ));
        }
        Ok(Base(format!("/{t}")))
    }

    /// The base as written in URLs: `""` or `/taskmill`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/queues/x` → `/taskmill/queues/x`; `/` → `/taskmill/`. Anything that is not an app path
    /// (absolute URLs, `//host`, `data:`, `#frag`, relative) is returned unchanged.
    pub fn href(&self, path: &str) -> String {
        if self.0.is_empty() || !path.starts_with('/') || path.starts_with("//") {
            return path.to_string();
        }
        format!("{}{path}", self.0)
    }

    /// The app path of a browser path under this base (`/taskmill/x` → `/x`, `/taskmill` →
    /// `/`), or None when the path is outside it.
    pub fn strip<'a>(&self, path: &'a str) -> Option<&'a str> {
        if self.0.is_empty() {
            return Some(path);
        }
        match path.strip_prefix(self.0.as_str())? {
            "" => Some("/"),
            rest if rest.starts_with('/') => Some(rest),
            _ => None,
        }
    }
}

/// The current request's base (server) or the page's (browser); empty outside both.
#[cfg(feature = "ssr")]
pub fn base() -> Base {
    // Borrowed in place: a page calls this once per link, and `Parts` is a whole request head.
    leptos::reactive::owner::with_context(|p: &axum::http::request::Parts| {
        p.extensions.get::<Base>().cloned()
    })
    .flatten()
    .unwrap_or_default()
}

/// In the browser: what the server wrote on `<body data-base>`, read once per page.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn base() -> Base {
    thread_local! {
        static BASE: Base = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
            .and_then(|b| b.get_attribute("data-base"))
            .and_then(|b| Base::parse(&b).ok())
            .unwrap_or_default();
    }
    BASE.with(Clone::clone)
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
pub fn base() -> Base {
    Base::default()
}

/// An app path as the browser must request it: `href("/queues/x")` → `/taskmill/queues/x`.
pub fn href(path: &str) -> String {
    base().href(path)
}

/// In the browser, before any island runs: server functions are called under the base too.
/// (Gated on `hydrate` alone: a workspace build turns `ssr` on too, and the frontend must
/// still compile there.)
#[cfg(feature = "hydrate")]
pub fn install_server_url() {
    let base = base();
    if !base.as_str().is_empty() {
        // `server_fn` keeps a `&'static str`; one short string per page load.
        let root: &'static str = Box::leak(base.as_str().to_string().into_boxed_str());
        let _ = leptos::server_fn::client::try_set_server_url(root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalised() {
        for t in ["/taskmill", "/taskmill/", "taskmill", " taskmill/ "] {
            assert_eq!(Base::parse(t).unwrap().as_str(), "/taskmill", "{t:?}");
        }
        assert_eq!(Base::parse("/a/b/").unwrap().as_str(), "/a/b");
        assert_eq!(Base::parse("/").unwrap(), Base::default());
        assert_eq!(Base::parse("").unwrap(), Base::default());
        for bad in [
            "/a//b", "/a/../b", "/a?x=1", "/a#f", "/a b", "/a\"b", "/a&b",
        ] {
            assert!(Base::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hrefs_and_strips() {
        let b = Base::parse("/taskmill").unwrap();
        assert_eq!(
            b.href("/queues/x?list=failed"),
            "/taskmill/queues/x?list=failed"
        );
        assert_eq!(b.href("/"), "/taskmill/");
        assert_eq!(b.href("data:,"), "data:,");
        assert_eq!(b.href("//evil.example/x"), "//evil.example/x");
        assert_eq!(b.href("https://a.b/"), "https://a.b/");
        assert_eq!(Base::default().href("/x"), "/x");
        assert_eq!(b.strip("/taskmill/api/v1/queues"), Some("/api/v1/queues"));
        assert_eq!(b.strip("/taskmill"), Some("/"));
        assert_eq!(b.strip("/taskmill/"), Some("/"));
        assert_eq!(b.strip("/taskmillx/a"), None);
        assert_eq!(b.strip("/pkg/taskmill.css"), None);
        assert_eq!(Base::default().strip("/pkg/a"), Some("/pkg/a"));
    }
}
