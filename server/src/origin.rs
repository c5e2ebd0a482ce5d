//! Cross-site refusal for mutations: Fetch Metadata first (`Sec-Fetch-Site`), then `Origin`
//! against `Host`. Pages need no CSRF token because a cross-site form POST always carries one
//! of the two in the browsers we support.

use axum::http::{header, HeaderMap};

use crate::error::{ApiError, ErrorCode};

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
}
