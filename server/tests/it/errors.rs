//! Bad input is a 4xx with a `{code, message}` body; Redis down is a 503; never a 500.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn bad_ids_pages_and_lists_are_400() {
    let c = ctx().await;
    enqueue(&c.store, "q", "taskmill.echo").await;
    for uri in [
        "/api/v1/jobs/bad%20id",
        "/api/v1/jobs/%F0%9F%92%A5",
        "/api/v1/queues/q?limit=0",
        "/api/v1/queues/q?limit=501",
        "/api/v1/queues/q?offset=-1",
        "/api/v1/queues/q?offset=abc",
        "/api/v1/queues/q?list=bogus",
        "/api/v1/failed?limit=99999999999999999999999",
        "/api/v1/audit?offset=18446744073709551615",
        "/api/v1/queues/bad%00name",
    ] {
        let r = send(&c.app, get(uri)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.body);
        assert_eq!(r.code(), "bad_request", "{uri}");
        assert!(!r.json()["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn unknown_things_are_404() {
    let c = ctx().await;
    for (method, uri) in [
        (Method::GET, "/api/v1/jobs/no-such-job"),
        (Method::GET, "/api/v1/queues/no-such-queue"),
        (Method::POST, "/api/v1/queues/no-such-queue/empty"),
        (Method::POST, "/api/v1/queues/no-such-queue/requeue-failed"),
        (Method::POST, "/api/v1/jobs/no-such-job/requeue"),
        (Method::POST, "/api/v1/jobs/no-such-job/cancel"),
        (Method::POST, "/api/v1/jobs/no-such-job/enqueue-now"),
        (Method::POST, "/api/v1/workers/no-such-worker/shutdown"),
        (Method::GET, "/api/v1/no-such-route"),
    ] {
        let req = if method == Method::GET {
            get(uri)
        } else {
            post(uri, "")
        };
        let r = send(&c.app, req).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            r.body
        );
        assert_eq!(r.code(), "not_found", "{uri}");
    }
}

#[tokio::test]
async fn get_on_an_action_is_405() {
    let c = ctx().await;
    let id = enqueue(&c.store, "q", "taskmill.echo").await;
    for uri in [
        format!("/api/v1/jobs/{id}/delete"),
        "/api/v1/queues/q/empty".to_string(),
        "/api/v1/suspend".to_string(),
    ] {
        let r = send(&c.app, get(&uri)).await;
        assert_eq!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{uri}: {}",
            r.body
        );
        assert_eq!(r.code(), "method_not_allowed");
    }
    assert!(
        exists(&c.store, &engine::keys::job(&id)).await,
        "GET changed nothing"
    );
}

#[tokio::test]
async fn bad_bodies_are_400() {
    let c = ctx().await;
    let too_many: Vec<String> = (0..1001).map(|i| format!("j{i}")).collect();
    for (uri, body) in [
        ("/api/v1/jobs/delete", "not json".to_string()),
        ("/api/v1/jobs/delete", "".to_string()),
        ("/api/v1/jobs/delete", r#"{"ids": []}"#.to_string()),
        (
            "/api/v1/jobs/delete",
            r#"{"ids": ["ok", "not ok"]}"#.to_string(),
        ),
        (
            "/api/v1/jobs/delete",
            json!({ "ids": too_many }).to_string(),
        ),
        ("/api/v1/jobs/delete", r#"{"ids": "a"}"#.to_string()),
        ("/api/v1/queues/q/enqueue", r#"{"args": []}"#.to_string()),
        (
            "/api/v1/queues/q/enqueue",
            r#"{"func": "f", "id": "../x"}"#.to_string(),
        ),
        ("/api/v1/suspend", r#"{"duration": -5}"#.to_string()),
        ("/api/v1/suspend", r#"{"duration": 0}"#.to_string()),
        (
            "/api/v1/workers/w/scale",
            r#"{"slots": 100000}"#.to_string(),
        ),
    ] {
        let r = send(&c.app, post(uri, &body)).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{uri} {body:.60}: {}",
            r.body
        );
        assert_eq!(r.code(), "bad_request");
    }
}

#[tokio::test]
async fn bodies_over_64k_are_413() {
    let c = ctx().await;
    let big = format!(r#"{{"func": "f", "args": ["{}"]}}"#, "x".repeat(70 * 1024));
    // Declared length.
    let r = send(&c.app, post("/api/v1/queues/q/enqueue", &big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(r.code(), "payload_too_large");
    // Streamed without a length.
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(4096)
        .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
        .collect();
    let req = post_builder("/api/v1/queues/q/enqueue")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let r = send(&c.app, req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(llen(&c.store, &engine::keys::queue("q")).await, 0);
}

#[tokio::test]
async fn redis_down_is_503_not_500() {
    let c = ctx_redis_down();
    for uri in [
        "/api/v1/overview",
        "/api/v1/queues",
        "/api/v1/queues/q",
        "/api/v1/jobs/abc",
        "/api/v1/failed",
        "/api/v1/workers",
        "/api/v1/audit",
    ] {
        let r = send(&c.app, get(uri)).await;
        assert_eq!(
            r.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{uri}: {}",
            r.body
        );
        assert_eq!(r.code(), "redis_unavailable", "{uri}");
    }
    let r = send(&c.app, post("/api/v1/jobs/abc/delete", "")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    let r = send(&c.app, get("/healthz")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    // Still 400 for bad input: validation comes before Redis.
    let r = send(&c.app, get("/api/v1/jobs/bad%20id")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lazy_store_recovers_when_redis_comes_up() {
    // A Console created while nothing listens answers 503, then 200 once Redis is there.
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let store = engine::Store::connect_lazy(&url).unwrap();
    let console = std::sync::Arc::new(app::state::Console::new(store, false));
    let app = server::serve::router(console, server::serve::ServeConfig::default());
    let r = send(&app, get("/healthz")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let _redis = crate::redis::start_redis_on(port);
    let mut ok = false;
    for _ in 0..50 {
        if send(&app, get("/healthz")).await.status == StatusCode::OK {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok, "healthz recovered after Redis started");
    let r = send(&app, get("/api/v1/overview")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn healthz_ok_and_unknown_methods() {
    let c = ctx().await;
    let r = send(&c.app, get("/healthz")).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
    let req = Request::builder()
        .method(Method::DELETE)
        .uri("/api/v1/jobs/abc")
        .header("host", "127.0.0.1:9181")
        .body(Body::empty())
        .unwrap();
    let r = send(&c.app, req).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.body);
}
