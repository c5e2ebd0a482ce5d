//! The failure-group API over failures made by Taskmill's own worker: the list (largest first,
//! `as_of`), a group's page, requeue / delete with `?dry_run=1` and `{"expected": n}` (409 on a
//! mismatch), and bad input as 4xx `{code, message}`.

use axum::http::StatusCode;
use engine::keys;

use crate::support::*;

#[tokio::test]
async fn groups_api_lists_pages_and_acts_on_a_group() {
    let c = ctx().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let job = engine::enqueue::NewJob::new("gq", "taskmill.fail")
            .args(vec![serde_json::json!("boom")]);
        ids.push(engine::enqueue::enqueue(&c.store, job).await.unwrap());
    }
    work(&c.store, &["gq"]).await;
    engine::groups::index::catch_up(&c.store).await.unwrap();

    let r = send(&c.app, get("/api/v1/failed/groups")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert!(v["as_of"].as_f64().is_some(), "{v}");
    let g = &v["items"][0];
    assert_eq!(g["count"], 3, "{v}");
    assert_eq!(g["queues"], serde_json::json!(["gq"]));
    assert_eq!(g["functions"], serde_json::json!(["taskmill.fail"]));
    assert_eq!(
        (g["last_hour"].as_u64(), g["last_day"].as_u64()),
        (Some(3), Some(3))
    );
    for k in [
        "fingerprint",
        "exc_type",
        "example",
        "first_seen",
        "last_seen",
    ] {
        assert!(!g[k].is_null(), "{k} in {g}");
    }
    let fp = g["fingerprint"].as_str().unwrap().to_string();

    let r = send(
        &c.app,
        get(&format!("/api/v1/failed/groups/{fp}?offset=1&limit=1")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = r.json();
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(3), 1)
    );
    assert!(ids.contains(&page["items"][0]["id"].as_str().unwrap().to_string()));

    // Dry run: the count, nothing changed, nothing audited.
    let before = send(&c.app, get("/api/v1/audit")).await.json()["total"].clone();
    let r = send(
        &c.app,
        post(&format!("/api/v1/failed/groups/{fp}/requeue?dry_run=1"), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["count"], 3);
    assert_eq!(zcard(&c.store, &keys::failed("gq")).await, 3);
    assert_eq!(
        send(&c.app, get("/api/v1/audit")).await.json()["total"],
        before
    );

    // A stale confirmed count is a 409 and changes nothing.
    let r = send(
        &c.app,
        post(
            &format!("/api/v1/failed/groups/{fp}/requeue"),
            r#"{"expected": 2}"#,
        ),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "conflict".into()),
        "{}",
        r.body
    );
    assert_eq!(zcard(&c.store, &keys::failed("gq")).await, 3);

    let r = send(
        &c.app,
        post(
            &format!("/api/v1/failed/groups/{fp}/requeue"),
            r#"{"expected": 3}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), serde_json::json!({"count": 3}));
    assert_eq!(llen(&c.store, &keys::queue("gq")).await, 3);
    assert_eq!(zcard(&c.store, &keys::failed("gq")).await, 0);
    let a = last_audit(&c.store).await;
    assert_eq!((a.action.as_str(), a.count), ("requeue-group", 3));
    assert_eq!(a.target, format!("group {fp}"));

    // They fail again; delete the group.
    work(&c.store, &["gq"]).await;
    engine::groups::index::catch_up(&c.store).await.unwrap();
    let r = send(
        &c.app,
        post(
            &format!("/api/v1/failed/groups/{fp}/delete?dry_run=1"),
            r#"{"expected": 3}"#,
        ),
    )
    .await;
    assert_eq!(r.json()["count"], 3, "{}", r.body);
    let r = send(
        &c.app,
        post(&format!("/api/v1/failed/groups/{fp}/delete"), ""),
    )
    .await;
    assert_eq!(r.json()["count"], 3, "{}", r.body);
    for id in &ids {
        assert!(!exists(&c.store, &keys::job(id)).await);
    }
    let r = send(&c.app, get("/api/v1/failed/groups")).await;
    assert_eq!(r.json()["items"], serde_json::json!([]));
}

#[tokio::test]
async fn groups_api_refuses_bad_input_with_4xx() {
    let c = ctx().await;
    for (req, status, code) in [
        (
            get("/api/v1/failed/groups/not-a-fingerprint"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            get("/api/v1/failed/groups/0123456789abcdef"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            get("/api/v1/failed/groups/0123456789abcdef?limit=0"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            post("/api/v1/failed/groups/%3Cb%3E/requeue", ""),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            post("/api/v1/failed/groups/0123456789abcdef/delete", ""),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            post(
                "/api/v1/failed/groups/0123456789abcdef/delete?dry_run=yes",
                "",
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            post(
                "/api/v1/failed/groups/0123456789abcdef/delete",
                r#"{"expected": "x"}"#,
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            post(
                "/api/v1/failed/groups/0123456789abcdef/requeue?dry_run=1",
                "",
            ),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            get("/api/v1/failed/groups/0123456789abcdef/requeue"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let uri = req.uri().to_string();
        let r = send(&c.app, req).await;
        assert_eq!(
            (r.status, r.code()),
            (status, code.to_string()),
            "{uri}: {}",
            r.body
        );
        assert!(r.json()["message"].is_string());
    }
}
