//! Cross-site refusal for mutations. Pages need no CSRF token because a cross-site form POST
//! always carries `Sec-Fetch-Site` or `Origin` in the browsers we support. In order:
//! 1. `Sec-Fetch-Site: same-origin` (or `none`: typed by the user) passes: the browser itself
//!    says the request comes from the console's own pages, whatever a proxy did to `Host`.
//! 2. An `Origin` listed with `--trusted-origin` passes.
//! 3. `Sec-Fetch-Site: cross-site` / `same-site` is refused.
//! 4. Any other `Origin` must match the request's host: `Host`, or with `--trust-proxy` the
//!    proxy's `X-Forwarded-Host` (and `X-Forwarded-Proto` then must match the scheme).
//!    Without `--trust-proxy` the `X-Forwarded-*` headers are ignored: anyone can send them.
//! 5. No `Origin` and no `Sec-Fetch-Site` (scripts, curl) passes: auth still applies.

use axum::http::{header, HeaderMap};

use crate::error::{ApiError, ErrorCode};

/// What counts as the console's own origin besides the request's host.
#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    /// `--trusted-origin`: (scheme, authority), lower-cased, default port removed.
    pub trusted: Vec<(String, String)>,
    /// `--trust-proxy`: believe `X-Forwarded-Host` / `X-Forwarded-Proto`.
    pub trust_proxy: bool,
}

/// Parses a `--trusted-origin` value: `scheme://host[:port]`, nothing after it but an
/// optional `/`.
pub fn parse_origin(s: &str) -> Result<(String, String), String> {
    let bad = || format!("{s:?}: expected an origin like https://console.example.com[:port]");
    let (scheme, authority) = origin_authority(s.trim()).ok_or_else(bad)?;
    let rest = s.trim().split_once("://").map_or("", |(_, r)| r);
    if !matches!(scheme.as_str(), "http" | "https") || rest.trim_end_matches('/').contains('/') {
        return Err(bad());
    }
    let port = default_port(&scheme);
    let authority = authority
        .strip_suffix(port)
        .map(str::to_string)
        .unwrap_or(authority);
    Ok((scheme, authority))
}

/// Rejects a mutation a browser sent on behalf of another site.
pub fn check_same_origin(h: &HeaderMap, policy: &OriginPolicy) -> Result<(), ApiError> {
    let refuse = |why: &str| Err(ApiError::new(ErrorCode::CrossSite, why.to_string()));
    let site = h.get("sec-fetch-site").map(|v| v.to_str().unwrap_or(""));
    let site_is =
        |names: [&str; 2]| site.is_some_and(|s| names.iter().any(|n| s.eq_ignore_ascii_case(n)));
    if site_is(["same-origin", "none"]) {
        return Ok(());
    }
    let origin = h
        .get(header::ORIGIN)
        .map(|o| o.to_str().ok().and_then(origin_authority));
    if let Some(Some((scheme, o))) = &origin {
        let same = |(s, a): &(String, String)| s == scheme && same_authority(scheme, o, a);
        if policy.trusted.iter().any(same) {
            return Ok(());
        }
    }
    if site_is(["cross-site", "same-site"]) {
        return refuse("cross-site request refused (Sec-Fetch-Site)");
    }
    let Some(origin) = origin else {
        return Ok(());
    };
    // Believed only with --trust-proxy. A chain of proxies appends: the first value is what
    // the browser asked for.
    let forwarded = |name: &str| {
        let v = h.get(name).filter(|_| policy.trust_proxy)?.to_str().ok()?;
        let first = v.split(',').next().unwrap_or("");
        Some(first.trim().to_ascii_lowercase())
    };
    let host = forwarded("x-forwarded-host")
        .or_else(|| Some(h.get(header::HOST)?.to_str().ok()?.to_string()));
    let proto_ok = |scheme: &str| forwarded("x-forwarded-proto").is_none_or(|p| p == scheme);
    match (origin, host) {
        (Some((scheme, o)), Some(host))
            if proto_ok(&scheme) && same_authority(&scheme, &o, &host) =>
        {
            Ok(())
        }
        _ => refuse(
            "cross-site request refused (Origin does not match Host; behind a proxy that \
             rewrites Host, see --trusted-origin and --trust-proxy)",
        ),
    }
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

fn default_port(scheme: &str) -> &'static str {
    match scheme {
        "https" => ":443",
        _ => ":80",
    }
}

fn same_authority(scheme: &str, origin: &str, host: &str) -> bool {
    let port = default_port(scheme);
    let norm = |a: &str| {
        let a = a.trim().to_ascii_lowercase();
        a.strip_suffix(port).map(str::to_string).unwrap_or(a)
    };
    norm(origin) == norm(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn passes(pairs: &[(&'static str, &str)], policy: &OriginPolicy) -> bool {
        check_same_origin(&headers(pairs), policy).is_ok()
    }

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
    fn the_browser_saying_same_origin_is_trusted_whatever_the_host() {
        let none = OriginPolicy::default();
        // nginx's default `proxy_set_header Host $proxy_host`: Host is the upstream's.
        let proxied = [
            ("host", "127.0.0.1:9181"),
            ("origin", "http://console.example:8080"),
        ];
        assert!(
            !passes(&proxied, &none),
            "Origin vs rewritten Host alone is refused"
        );
        let mut same = proxied.to_vec();
        same.push(("sec-fetch-site", "same-origin"));
        assert!(passes(&same, &none));
        assert!(passes(&[("sec-fetch-site", "none")], &none));
        let mut cross = proxied.to_vec();
        cross.push(("sec-fetch-site", "cross-site"));
        assert!(!passes(&cross, &none));
        let same_site = [("host", "a.example"), ("sec-fetch-site", "same-site")];
        assert!(!passes(&same_site, &none));
        // Scripts send neither header.
        assert!(passes(&[("host", "a.example")], &none));
        // Origin matching Host still passes for browsers without Fetch Metadata.
        let direct = [
            ("host", "127.0.0.1:9181"),
            ("origin", "http://127.0.0.1:9181"),
        ];
        assert!(passes(&direct, &none));
        assert!(!passes(&[("host", "a"), ("origin", "null")], &none));
    }

    #[test]
    fn trusted_origins_pass_even_cross_site() {
        let policy = OriginPolicy {
            trusted: vec![parse_origin("https://Console.Example/").unwrap()],
            trust_proxy: false,
        };
        assert_eq!(
            policy.trusted[0],
            ("https".into(), "console.example".into())
        );
        let from = |origin: &str| {
            passes(
                &[
                    ("host", "127.0.0.1:9181"),
                    ("sec-fetch-site", "cross-site"),
                    ("origin", origin),
                ],
                &policy,
            )
        };
        assert!(from("https://console.example"));
        assert!(from("https://console.example:443"));
        assert!(
            !from("http://console.example"),
            "the scheme is part of an origin"
        );
        assert!(!from("https://evil.example"));
        assert!(!passes(
            &[
                ("host", "127.0.0.1:9181"),
                ("origin", "http://evil.example")
            ],
            &policy
        ));
        for bad in [
            "console.example",
            "ftp://a",
            "https://a/path",
            "https://",
            "https://u@a",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_origin("http://a:80").unwrap().1, "a");
    }

    #[test]
    fn forwarded_headers_count_only_with_trust_proxy() {
        let req = [
            ("host", "127.0.0.1:9181"),
            ("x-forwarded-host", "console.example"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://console.example"),
        ];
        let ignore = OriginPolicy::default();
        assert!(
            !passes(&req, &ignore),
            "X-Forwarded-Host ignored without --trust-proxy"
        );
        let trust = OriginPolicy {
            trust_proxy: true,
            ..OriginPolicy::default()
        };
        assert!(passes(&req, &trust));
        let mut wrong_proto = req.to_vec();
        wrong_proto[2] = ("x-forwarded-proto", "http");
        assert!(
            !passes(&wrong_proto, &trust),
            "https origin, http per the proxy"
        );
        let mut evil = req.to_vec();
        evil[3] = ("origin", "https://evil.example");
        assert!(!passes(&evil, &trust));
        let chain = [
            ("host", "127.0.0.1:9181"),
            ("x-forwarded-host", "console.example, inner.proxy"),
            ("origin", "http://console.example"),
        ];
        assert!(passes(&chain, &trust));
    }
}
