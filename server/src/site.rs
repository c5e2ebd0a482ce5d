//! The console's static site (`/pkg/taskmill.{js,wasm,css}`, `/boot.js`), embedded in the binary
//! by `build.rs` so the console works from any directory. Each file is served twice:
//! - at its content-hashed name (`/pkg/taskmill-<hash>.wasm`), which the page shell links to,
//!   with `Cache-Control: public, max-age=31536000, immutable`: a new build has new names;
//! - at its plain name (`/pkg/taskmill.wasm`) with `no-cache` (revalidated by ETag), for
//!   anything that still asks for it.
//!
//! Bodies are compressed at build time (release builds): brotli or gzip, chosen by
//! `Accept-Encoding` (`Vary: Accept-Encoding`), else the raw bytes. `--site-root DIR` replaces all
//! of this with files served from disk under their plain names.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The plain URL path, e.g. `/pkg/taskmill.wasm`.
    pub path: &'static str,
    /// The content-hashed URL path, e.g. `/pkg/taskmill-0123456789abcdef.wasm`.
    pub hashed: &'static str,
    /// A strong ETag of the raw bytes (quoted).
    pub etag: &'static str,
    pub raw: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub br: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/site_files.rs"));

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";

/// The embedded file at plain URL `path`.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Whether this binary carries a site (it was built after `scripts/build-site.sh`).
pub fn embedded() -> bool {
    find("/pkg/taskmill.wasm").is_some()
}

/// The URLs the page shell links to: hashed names of the embedded site, or the plain names
/// (flagged missing when the binary has none).
pub fn shell_urls() -> app::SiteAssets {
    let hashed = |p: &str| find(p).map(|a| a.hashed.to_string());
    match (
        hashed("/pkg/taskmill.css"),
        hashed("/boot.js"),
        hashed("/pkg/taskmill.js"),
        hashed("/pkg/taskmill.wasm"),
    ) {
        (Some(css), Some(boot), Some(js), Some(wasm)) => app::SiteAssets {
            css,
            boot,
            js,
            wasm,
            missing: false,
        },
        _ => app::SiteAssets {
            missing: true,
            ..app::SiteAssets::default()
        },
    }
}

/// A GET route for every embedded file, under both names.
pub fn router() -> Router {
    let mut r = Router::new();
    for a in ASSETS {
        r = r
            .route(
                a.hashed,
                get(move |h: HeaderMap| async move { respond(a, IMMUTABLE, &h) }),
            )
            .route(
                a.path,
                get(move |h: HeaderMap| async move { respond(a, REVALIDATE, &h) }),
            );
    }
    r
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Br,
    Gzip,
    Identity,
}

/// The best encoding `accept` (an `Accept-Encoding` value) allows among those available.
pub fn negotiate(accept: &str, br: bool, gzip: bool) -> Encoding {
    let q = |name: &str| -> Option<f32> {
        let mut star = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let token = parts.next().unwrap_or("").trim();
            let weight = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.trim().parse().ok())
                })
                .unwrap_or(1.0);
            if token.eq_ignore_ascii_case(name) {
                return Some(weight);
            }
            if token == "*" {
                star = Some(weight);
            }
        }
        star
    };
    let br_q = if br { q("br").unwrap_or(0.0) } else { 0.0 };
    let gz_q = if gzip { q("gzip").unwrap_or(0.0) } else { 0.0 };
    if br_q > 0.0 && br_q >= gz_q {
        Encoding::Br
    } else if gz_q > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn respond(a: &'static Asset, cache: &'static str, h: &HeaderMap) -> Response {
    let accept = h
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let enc = negotiate(accept, a.br.is_some(), a.gzip.is_some());
    let (body, coding, etag) = match (enc, a.br, a.gzip) {
        (Encoding::Br, Some(b), _) => (b, Some("br"), format!("{}-br\"", trim_quote(a.etag))),
        (Encoding::Gzip, _, Some(g)) => (g, Some("gzip"), format!("{}-gz\"", trim_quote(a.etag))),
        _ => (a.raw, None, a.etag.to_string()),
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(a.path)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    let fresh = h
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if let Some(c) = coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
    }
    (headers, body).into_response()
}

/// `"abc"` → `"abc` (so a suffix can go inside the quotes).
fn trim_quote(etag: &str) -> &str {
    etag.strip_suffix('"').unwrap_or(etag)
}

pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_negotiation() {
        use Encoding::*;
        assert_eq!(negotiate("gzip, deflate, br", true, true), Br);
        assert_eq!(negotiate("gzip", true, true), Gzip);
        assert_eq!(negotiate("br;q=0.5, gzip;q=0.8", true, true), Gzip);
        assert_eq!(negotiate("br;q=0, gzip;q=0", true, true), Identity);
        assert_eq!(negotiate("", true, true), Identity);
        assert_eq!(negotiate("*", true, true), Br);
        assert_eq!(negotiate("br", false, true), Identity);
        assert_eq!(negotiate("identity", true, true), Identity);
    }
}
