//! Cross-site refusal, read-only mode, authentication and the principal in audit records,
//! security headers, and the refusal to serve an open console beyond loopback.

use app::auth::Role;
use axum::http::{header, StatusCode};
use base64::Engine as _;
use server::security::{AuthConfig, User};
use server::serve::ServeConfig;

use crate::support::*;

fn with_auth() -> ServeConfig {
    ServeConfig {
        auth: AuthConfig {
            users: vec![User::new("alice", "s3cret:pw", Role::Admin)],
            api_tokens: vec![server::security::parse_token("tok-abcdef").unwrap()],
            metrics_token: Some("scrape-me".into()),
            ..AuthConfig::default()
        },
        ..ServeConfig::default()
    }
}

fn basic(user: &str, pw: &str) -> String {
    let raw = format!("{user}:{pw}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let c = ctx().await;
    let id = enqueue(&c.store, "q", "taskmill.echo").await;
    let uri = format!("/api/v1/jobs/{id}/delete");
    let cases = [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "http://evil.example")],
        vec![("origin", "http://127.0.0.1:9999")],
        vec![("origin", "null")],
    ];
    for headers in cases {
        let mut b = axum::http::Request::builder()
            .method("POST")
            .uri(&uri)
            .header(header::HOST, "127.0.0.1:9181");
        for (k, v) in &headers {
            b = b.header(*k, *v);
        }
        let r = send(&c.app, b.body(axum::body::Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}: {}", r.body);
        assert_eq!(r.code(), "cross_site");
    }
    assert!(
        exists(&c.store, &engine::keys::job(&id)).await,
        "nothing deleted"
    );
    // The same request from the console's own origin goes through.
    let req = post_builder(&uri)
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = send(&c.app, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!exists(&c.store, &engine::keys::job(&id)).await);
}

#[tokio::test]
async fn scripts_without_origin_may_post() {
    // curl sends neither Origin nor Sec-Fetch-Site: not a browser, so not CSRF.
    let c = ctx().await;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/suspend")
        .header(header::HOST, "127.0.0.1:9181")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = send(&c.app, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn read_only_refuses_every_action() {
    let c = ctx_with(ServeConfig::default(), true).await;
    let id = enqueue(&c.store, "q", "taskmill.echo").await;
    for uri in [
        format!("/api/v1/jobs/{id}/delete"),
        format!("/api/v1/jobs/{id}/cancel"),
        "/api/v1/queues/q/empty".to_string(),
        "/api/v1/queues/q/enqueue".to_string(),
        "/api/v1/failed/requeue-all".to_string(),
        "/api/v1/suspend".to_string(),
    ] {
        let r = send(&c.app, post(&uri, r#"{"func": "f"}"#)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}: {}", r.body);
        assert_eq!(r.code(), "read_only");
    }
    assert_eq!(llen(&c.store, &engine::keys::queue("q")).await, 1);
    assert!(!exists(&c.store, "rq:suspended").await);
    assert_eq!(engine::audit::page(&c.store, 0, 10).await.unwrap().total, 0);
    // Reads still work.
    let r = send(&c.app, get("/api/v1/queues/q")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn auth_is_required_when_configured() {
    let c = ctx_with(with_auth(), false).await;
    let r = send(&c.app, get("/api/v1/overview")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "unauthorized");
    assert!(r.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    for bad in [
        basic("alice", "wrong"),
        basic("bob", "s3cret:pw"),
        "Bearer nope".to_string(),
        "Bearer scrape-me".to_string(),
        "Basic !!!".to_string(),
    ] {
        let mut req = get("/api/v1/overview");
        req.headers_mut()
            .insert(header::AUTHORIZATION, bad.parse().unwrap());
        assert_eq!(
            send(&c.app, req).await.status,
            StatusCode::UNAUTHORIZED,
            "{bad}"
        );
    }
    let mut req = get("/api/v1/overview");
    req.headers_mut().insert(
        header::AUTHORIZATION,
        basic("alice", "s3cret:pw").parse().unwrap(),
    );
    assert_eq!(send(&c.app, req).await.status, StatusCode::OK);
    // Pages too; /healthz stays open for load balancers.
    assert_eq!(
        send(&c.app, get("/")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(&c.app, get("/healthz")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn principal_is_recorded_in_audit() {
    let c = ctx_with(with_auth(), false).await;
    let mut req = post("/api/v1/suspend", "");
    req.headers_mut().insert(
        header::AUTHORIZATION,
        basic("alice", "s3cret:pw").parse().unwrap(),
    );
    assert_eq!(send(&c.app, req).await.status, StatusCode::OK);
    assert_eq!(last_audit(&c.store).await.who, "alice");

    let mut req = post("/api/v1/resume", "");
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer tok-abcdef".parse().unwrap());
    assert_eq!(send(&c.app, req).await.status, StatusCode::OK);
    assert_eq!(last_audit(&c.store).await.who, "token:tok-");
}

#[tokio::test]
async fn metrics_token_guards_metrics() {
    let c = ctx_with(with_auth(), false).await;
    assert_eq!(
        send(&c.app, get("/metrics")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut req = get("/metrics");
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer tok-abcdef".parse().unwrap());
    assert_eq!(
        send(&c.app, req).await.status,
        StatusCode::UNAUTHORIZED,
        "API token is not the metrics token"
    );
    let mut req = get("/metrics");
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer scrape-me".parse().unwrap());
    assert_eq!(send(&c.app, req).await.status, StatusCode::OK);
    // The metrics token opens nothing else.
    let mut req = get("/api/v1/overview");
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer scrape-me".parse().unwrap());
    assert_eq!(send(&c.app, req).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let c = ctx_with(with_auth(), false).await;
    for r in [
        send(&c.app, get("/healthz")).await,
        send(&c.app, get("/api/v1/overview")).await, // 401
        send(&c.app, post("/api/v1/suspend", "")).await,
    ] {
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"));
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(r.headers[header::REFERRER_POLICY], "same-origin");
        assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");
    }
}

#[tokio::test]
async fn open_console_on_public_bind_is_refused() {
    let c = ctx().await;
    let bind = "0.0.0.0:0".parse().unwrap();
    let err = server::serve::serve(c.console.clone(), ServeConfig::default(), bind, async {})
        .await
        .expect_err("must refuse");
    assert!(
        err.downcast_ref::<server::process::UsageError>().is_some(),
        "{err}"
    );
    assert!(err.to_string().contains("without authentication"), "{err}");
    // With credentials it binds (and stops at once: the shutdown future is ready).
    server::serve::serve(c.console.clone(), with_auth(), bind, async {})
        .await
        .expect("serves with auth");
}

#[test]
fn binary_exits_2_on_open_public_bind() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taskmill"))
        .args(["serve", "--bind", "0.0.0.0:0"])
        .env("REDIS_URL", format!("redis://127.0.0.1:{}", free_port()))
        .env_remove("TASKMILL_USERS")
        .env_remove("TASKMILL_API_TOKENS")
        .output()
        .expect("run taskmill");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("without authentication"));
}
