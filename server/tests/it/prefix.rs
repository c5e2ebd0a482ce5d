//! `--url-prefix /taskmill`: every URL a page writes is under the prefix, the API, metrics
//! and health answer under it, a no-JS form post redirects under it, and nothing answers
//! outside it. Also the cross-site rules as a proxy that rewrites Host makes them matter.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use server::serve::ServeConfig;

use crate::support::*;

const PREFIX: &str = "/taskmill";

async fn prefixed() -> Ctx {
    let cfg = ServeConfig {
        base: app::url::Base::parse(PREFIX).unwrap(),
        ..ServeConfig::default()
    };
    ctx_with(cfg, false).await
}

/// Every `href`, `src`, `action`, `formaction` and `data-taskmill-*` value of `html` that is a
/// path (starts with `/`), in order.
fn url_attributes(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in [
        " href=\"",
        " src=\"",
        " action=\"",
        " formaction=\"",
        " data-taskmill-js=\"",
        " data-taskmill-wasm=\"",
    ] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let value = &rest[..rest.find('"').unwrap_or(rest.len())];
            if value.starts_with('/') {
                out.push(format!("{}{value}", attr.trim()));
            }
        }
    }
    out
}

#[tokio::test]
async fn pages_write_every_url_under_the_prefix() {
    let c = prefixed().await;
    // The burst worker behind `failed_job` would run a job queued before it.
    let failed = failed_job(&c.store, "emails").await;
    let queued = enqueue(&c.store, "emails", "taskmill.echo").await;
    let pages = [
        "/taskmill/".to_string(),
        "/taskmill".to_string(),
        "/taskmill/queues/emails".to_string(),
        "/taskmill/queues/emails?list=failed".to_string(),
        "/taskmill/failed".to_string(),
        "/taskmill/failed?confirm=requeue-all".to_string(),
        format!("/taskmill/jobs/{queued}"),
        format!("/taskmill/jobs/{failed}"),
        "/taskmill/workers".to_string(),
        "/taskmill/stats".to_string(),
        "/taskmill/search?q=emails".to_string(),
        "/taskmill/no/such/page".to_string(),
    ];
    for page in &pages {
        let r = send(&c.app, get(page)).await;
        let want = if page.contains("no/such") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status, want, "{page}: {}", r.body);
        assert!(
            r.body.contains(r#"data-base="/taskmill""#),
            "{page}: {}",
            r.body
        );
        let urls = url_attributes(&r.body);
        assert!(
            urls.iter().any(|u| u.starts_with("href=")),
            "{page}: no links found"
        );
        for u in &urls {
            let value = u.split_once('"').map_or("", |(_, v)| v);
            assert!(
                value.starts_with("/taskmill/") && !value.starts_with("/taskmill/taskmill"),
                "{page}: {u} is not under the prefix once"
            );
        }
        if page.contains("/failed") || page.contains(failed.as_str()) {
            assert!(
                urls.iter().any(|u| u.starts_with("action=\"/taskmill/ui/")),
                "{page}: the action forms post under the prefix: {urls:?}"
            );
        }
    }
    // The stylesheet and the bundle: linked under the prefix.
    let r = send(&c.app, get("/taskmill/")).await;
    assert!(
        r.body.contains(r#"rel="stylesheet" href="/taskmill/pkg/"#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"src="/taskmill/boot"#), "{}", r.body);
    assert!(
        r.body.contains(r#"href="/taskmill/queues/emails""#),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn api_metrics_and_health_answer_under_the_prefix_only() {
    let c = prefixed().await;
    enqueue(&c.store, "emails", "taskmill.echo").await;
    let r = send(&c.app, get("/taskmill/api/v1/queues")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("emails"), "{}", r.body);
    let r = send(&c.app, get("/taskmill/metrics")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("emails"), "{}", r.body);
    let r = send(&c.app, get("/taskmill/healthz")).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
    for outside in [
        "/api/v1/queues",
        "/metrics",
        "/healthz",
        "/queues/emails",
        "/boot.js",
        "/pkg/taskmill.css",
        "/taskmillx/metrics",
    ] {
        let r = send(&c.app, get(outside)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{outside}: {}", r.body);
        assert_eq!(r.code(), "not_found", "{outside}");
    }
    let r = send(&c.app, get("/")).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.headers[header::LOCATION], "/taskmill/");
}

#[tokio::test]
async fn no_js_form_post_redirects_under_the_prefix() {
    let c = prefixed().await;
    let id = failed_job(&c.store, "fq").await;
    let req = form_post("/taskmill/ui/requeue")
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .body(Body::from(format!("ids[]={id}&return_to=/failed")))
        .unwrap();
    let r = send(&c.app, req).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let to = r.headers[header::LOCATION].to_str().unwrap();
    assert!(to.starts_with("/taskmill/failed?ok="), "{to}");
    assert!(to.contains("&flash="), "the flash is still signed: {to}");
    assert_eq!(zcard(&c.store, &engine::keys::failed("fq")).await, 0);
    assert_eq!(llen(&c.store, &engine::keys::queue("fq")).await, 1);
    // The page it lands on shows the (signed) flash.
    let r = send(&c.app, get(to)).await;
    assert!(r.body.contains("data-testid=\"flash-ok\""), "{}", r.body);
}

/// A POST as it arrives from a proxy: Host is the console's own address (no Origin yet).
fn proxied_post(uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::HOST, "127.0.0.1:9181")
}

/// nginx's default `proxy_set_header Host $proxy_host`: the console sees its own address as
/// Host while the browser's Origin is the proxy's.
#[tokio::test]
async fn posts_through_a_host_rewriting_proxy() {
    let c = prefixed().await;
    let post_from = |origin: &str, site: Option<&str>| {
        let mut b =
            proxied_post("/taskmill/api/v1/failed/requeue-all").header(header::ORIGIN, origin);
        if let Some(s) = site {
            b = b.header("sec-fetch-site", s);
        }
        b.body(Body::empty()).unwrap()
    };
    let r = send(
        &c.app,
        post_from("http://proxy.example:8080", Some("same-origin")),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the browser says same-origin: {}",
        r.body
    );
    let r = send(&c.app, post_from("http://proxy.example:8080", None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.code(), "cross_site");
    let r = send(&c.app, post_from("http://evil.example", Some("cross-site"))).await;
    assert_eq!(r.code(), "cross_site");
    let spoofed = proxied_post("/taskmill/api/v1/failed/requeue-all")
        .header(header::ORIGIN, "http://evil.example")
        .header("x-forwarded-host", "evil.example")
        .body(Body::empty())
        .unwrap();
    let r = send(&c.app, spoofed).await;
    assert_eq!(
        r.code(),
        "cross_site",
        "X-Forwarded-Host ignored without --trust-proxy"
    );

    let trusting = ServeConfig {
        base: app::url::Base::parse(PREFIX).unwrap(),
        origins: server::origin::OriginPolicy {
            trusted: vec![server::origin::parse_origin("https://ops.example").unwrap()],
            trust_proxy: true,
        },
        ..ServeConfig::default()
    };
    let c = ctx_with(trusting, false).await;
    let r = send(&c.app, post_from("https://ops.example", Some("cross-site"))).await;
    assert_eq!(r.status, StatusCode::OK, "a trusted origin: {}", r.body);
    let forwarded = proxied_post("/taskmill/api/v1/failed/requeue-all")
        .header(header::ORIGIN, "https://proxy.example")
        .header("x-forwarded-host", "proxy.example")
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    let r = send(&c.app, forwarded).await;
    assert_eq!(r.status, StatusCode::OK, "--trust-proxy: {}", r.body);
}
