//! Pages and static files through the same router: server-rendered HTML, the site root under
//! `/pkg` and `/boot.js`, the app's 404, and the "Redis unreachable" page instead of a 500.

use axum::http::{header, StatusCode};
use server::serve::ServeConfig;

use crate::support::*;

#[tokio::test]
async fn overview_page_renders() {
    let c = ctx().await;
    enqueue(&c.store, "emails", "taskmill.echo").await;
    let r = send(&c.app, get("/")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.body.contains("<html"), "{}", r.body);
    assert!(r.body.contains("emails"), "queue listed: {}", r.body);
    assert!(r.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    // No inline scripts: the CSP would refuse them (and the browser log the violation).
    assert!(!r.body.contains("<script>"), "{}", r.body);
    assert!(!r.body.contains("__INCOMPLETE_CHUNKS"), "{}", r.body);
}

#[tokio::test]
async fn unknown_page_is_404() {
    let c = ctx().await;
    let r = send(&c.app, get("/no/such/page")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("<script>"), "{}", r.body);
}

#[tokio::test]
async fn static_files_from_the_site_root() {
    let dir = std::env::temp_dir().join(format!("taskmill-site-{}", free_port()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("pkg/taskmill.js"), "export default 1;").unwrap();
    std::fs::write(dir.join("boot.js"), "import('/pkg/taskmill.js');").unwrap();
    let cfg = ServeConfig {
        site_root: Some(dir.clone()),
        ..ServeConfig::default()
    };
    let c = ctx_with(cfg, false).await;
    let r = send(&c.app, get("/pkg/taskmill.js")).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, "export default 1;")
    );
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let r = send(&c.app, get("/boot.js")).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(&c.app, get("/pkg/missing.wasm")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&c.app, get("/pkg/..%2F..%2Fetc%2Fpasswd")).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn redis_down_shows_an_error_page_not_a_500() {
    let c = ctx_redis_down();
    for uri in ["/", "/workers", "/failed", "/queues/default", "/jobs/abc"] {
        let r = send(&c.app, get(uri)).await;
        assert!(r.status.as_u16() != 500, "{uri}: {}", r.status);
        assert!(r.body.contains("Redis unreachable"), "{uri}: {}", r.body);
    }
}

/// leptos_meta writes `<title>` raw: a queue name must not close it and inject markup (#15).
#[tokio::test]
async fn hostile_queue_names_stay_inside_the_title() {
    let c = ctx().await;
    let name = r#"m</title><meta http-equiv="refresh" content="0;url=https://elsewhere.example/">"#;
    engine::enqueue::enqueue(
        &c.store,
        engine::enqueue::NewJob::new(name, "taskmill.echo"),
    )
    .await
    .unwrap();
    let r = send(&c.app, get(&app::format::queue_href(name))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let head = &r.body[..r.body.find("</head>").expect("a head")];
    assert_eq!(head.matches("</title>").count(), 1, "{head}");
    assert!(!head.contains("<meta http-equiv"), "{head}");
    assert!(
        head.contains("<title>Queue m&lt;/title&gt;&lt;meta http-equiv="),
        "escaped once, not twice: {head}"
    );
    assert!(!r.body.contains("<meta http-equiv"), "nowhere in the page");
}

#[tokio::test]
async fn embedded_site_or_a_missing_site_banner() {
    // Without --site-root the shell links the site compiled into the binary (build.rs), or, for a
    // binary built before scripts/build-site.sh, says on every page that the site is missing.
    let c = ctx().await;
    let r = send(&c.app, get("/")).await;
    assert_eq!(r.status, StatusCode::OK);
    if !server::site::embedded() {
        assert!(
            r.body.contains(r#"data-testid="site-missing""#),
            "{}",
            r.body
        );
        assert!(r.body.contains(r#"href="/pkg/taskmill.css""#), "{}", r.body);
        return;
    }
    assert!(!r.body.contains("site-missing"), "{}", r.body);
    for plain in [
        "/pkg/taskmill.css",
        "/boot.js",
        "/pkg/taskmill.js",
        "/pkg/taskmill.wasm",
    ] {
        let a = server::site::find(plain).expect("embedded");
        assert!(
            r.body.contains(&format!("\"{}\"", a.hashed)),
            "{plain} → {}",
            a.hashed
        );
        let got = send(&c.app, get(a.hashed)).await;
        assert_eq!(got.status, StatusCode::OK, "{}", a.hashed);
        assert_eq!(got.headers[header::CACHE_CONTROL], server::site::IMMUTABLE);
        assert_eq!(
            got.headers[header::CONTENT_TYPE],
            server::site::content_type(plain)
        );
        let plain_reply = send(&c.app, get(plain)).await;
        assert_eq!(
            plain_reply.headers[header::CACHE_CONTROL],
            server::site::REVALIDATE
        );
    }
    // A page served from --site-root links the plain names and carries no banner.
    let dir = std::env::temp_dir().join(format!("taskmill-site-{}", free_port()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    let cfg = ServeConfig {
        site_root: Some(dir.clone()),
        ..ServeConfig::default()
    };
    let c = ctx_with(cfg, false).await;
    let r = send(&c.app, get("/")).await;
    assert!(r.body.contains(r#"href="/pkg/taskmill.css""#), "{}", r.body);
    assert!(!r.body.contains("site-missing"));
    let _ = std::fs::remove_dir_all(dir);
}
