//! JSON API actions: each one checked against Redis before and after, plus its audit record.

use axum::http::StatusCode;
use engine::enqueue::NewJob;
use engine::keys;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn enqueue_then_read_back() {
    let c = ctx().await;
    assert_eq!(llen(&c.store, &keys::queue("mail")).await, 0);
    let r = send(
        &c.app,
        post(
            "/api/v1/queues/mail/enqueue",
            r#"{"func": "taskmill.echo", "args": [1, "two"]}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(llen(&c.store, &keys::queue("mail")).await, 1);
    assert!(exists(&c.store, &keys::job(&id)).await);

    let r = send(&c.app, get("/api/v1/queues/mail")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["counts"]["queued"], 1);
    assert_eq!(v["page"]["items"][0]["id"], id.as_str());
    assert_eq!(v["page"]["total"], 1);

    let r = send(&c.app, get(&format!("/api/v1/jobs/{id}"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["summary"]["id"], id.as_str());
    assert_eq!(r.json()["summary"]["func_name"], "taskmill.echo");

    let r = send(&c.app, get("/api/v1/queues")).await;
    assert_eq!(r.json()[0]["name"], "mail");
    let r = send(&c.app, get("/api/v1/overview")).await;
    assert_eq!(r.json()["totals"]["queued"], 1);

    let a = last_audit(&c.store).await;
    assert_eq!(
        (a.who.as_str(), a.action.as_str(), a.target.as_str()),
        ("local", "enqueue", id.as_str())
    );
}

#[tokio::test]
async fn empty_queue_removes_jobs() {
    let c = ctx().await;
    let ids = [
        enqueue(&c.store, "bulk", "taskmill.echo").await,
        enqueue(&c.store, "bulk", "taskmill.echo").await,
        enqueue(&c.store, "bulk", "taskmill.echo").await,
    ];
    let r = send(&c.app, post("/api/v1/queues/bulk/empty", "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["count"], 3);
    assert_eq!(llen(&c.store, &keys::queue("bulk")).await, 0);
    for id in &ids {
        assert!(!exists(&c.store, &keys::job(id)).await);
    }
    let a = last_audit(&c.store).await;
    assert_eq!(
        (a.action.as_str(), a.target.as_str(), a.count),
        ("empty", "bulk", 3)
    );
}

#[tokio::test]
async fn cancel_and_delete_single_jobs() {
    let c = ctx().await;
    let a = enqueue(&c.store, "q", "taskmill.echo").await;
    let b = enqueue(&c.store, "q", "taskmill.echo").await;
    let r = send(&c.app, post(&format!("/api/v1/jobs/{a}/cancel"), "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["done"], json!([a]));
    assert_eq!(llen(&c.store, &keys::queue("q")).await, 1);
    assert_eq!(zcard(&c.store, &keys::canceled("q")).await, 1);

    let r = send(&c.app, post(&format!("/api/v1/jobs/{b}/delete"), "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!exists(&c.store, &keys::job(&b)).await);
    assert_eq!(llen(&c.store, &keys::queue("q")).await, 0);
    assert_eq!(last_audit(&c.store).await.action, "delete");

    // Gone now: the single-job route says so.
    let r = send(&c.app, post(&format!("/api/v1/jobs/{b}/delete"), "")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.code(), "not_found");
}

#[tokio::test]
async fn bulk_delete_and_cancel() {
    let c = ctx().await;
    let a = enqueue(&c.store, "q", "taskmill.echo").await;
    let b = enqueue(&c.store, "q", "taskmill.echo").await;
    let x = enqueue(&c.store, "q", "taskmill.echo").await;
    let body = json!({ "ids": [a, b, "missing-id"] }).to_string();
    let r = send(&c.app, post("/api/v1/jobs/delete", &body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["done"].as_array().unwrap().len(), 2);
    assert_eq!(v["skipped"][0]["id"], "missing-id");
    assert!(!exists(&c.store, &keys::job(&a)).await);
    assert!(!exists(&c.store, &keys::job(&b)).await);
    let audit = last_audit(&c.store).await;
    assert_eq!((audit.action.as_str(), audit.count), ("delete", 2));

    let r = send(
        &c.app,
        post("/api/v1/jobs/cancel", &json!({ "ids": [x] }).to_string()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(zcard(&c.store, &keys::canceled("q")).await, 1);
}

#[tokio::test]
async fn requeue_failed_jobs_three_ways() {
    let c = ctx().await;
    let id = failed_job(&c.store, "fq").await;
    let r = send(&c.app, get("/api/v1/failed")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["items"][0]["id"], id.as_str());

    let r = send(&c.app, post(&format!("/api/v1/jobs/{id}/requeue"), "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["done"], json!([id]));
    assert_eq!(zcard(&c.store, &keys::failed("fq")).await, 0);
    assert_eq!(llen(&c.store, &keys::queue("fq")).await, 1);

    // Fails again; now requeue by queue.
    work(&c.store, &["fq"]).await;
    assert_eq!(zcard(&c.store, &keys::failed("fq")).await, 1);
    let r = send(&c.app, post("/api/v1/queues/fq/requeue-failed", "")).await;
    assert_eq!(r.json()["count"], 1, "{}", r.body);
    assert_eq!(llen(&c.store, &keys::queue("fq")).await, 1);

    // And once more with requeue-all.
    work(&c.store, &["fq"]).await;
    let r = send(&c.app, post("/api/v1/failed/requeue-all", "")).await;
    assert_eq!(r.json()["count"], 1, "{}", r.body);
    assert_eq!(zcard(&c.store, &keys::failed("fq")).await, 0);
    let audit = last_audit(&c.store).await;
    assert_eq!((audit.action.as_str(), audit.count), ("requeue-all", 1));
}

#[tokio::test]
async fn enqueue_now_moves_a_scheduled_job() {
    let c = ctx().await;
    let mut job = NewJob::new("later", "taskmill.echo");
    job.schedule_at = Some(engine::time::now() + 3600.0);
    let id = engine::enqueue::enqueue(&c.store, job).await.unwrap();
    assert_eq!(zcard(&c.store, &keys::scheduled("later")).await, 1);
    assert_eq!(llen(&c.store, &keys::queue("later")).await, 0);
    let r = send(&c.app, post(&format!("/api/v1/jobs/{id}/enqueue-now"), "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(zcard(&c.store, &keys::scheduled("later")).await, 0);
    assert_eq!(llen(&c.store, &keys::queue("later")).await, 1);
}

#[tokio::test]
async fn stop_reports_not_running_and_not_found() {
    let c = ctx().await;
    let id = enqueue(&c.store, "q", "taskmill.echo").await;
    let r = send(&c.app, post(&format!("/api/v1/jobs/{id}/stop"), "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["outcome"], "not_running");
    let r = send(&c.app, post("/api/v1/jobs/nope/stop", "")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test]
async fn suspend_and_resume() {
    let c = ctx().await;
    assert!(!exists(&c.store, "rq:suspended").await);
    let r = send(&c.app, post("/api/v1/suspend", r#"{"duration": 60}"#)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(exists(&c.store, "rq:suspended").await);
    let ttl: i64 = redis(&c.store, redis::cmd("TTL").arg("rq:suspended")).await;
    assert!((1..=60).contains(&ttl), "ttl {ttl}");
    let r = send(&c.app, post("/api/v1/resume", "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!exists(&c.store, "rq:suspended").await);
    // No body at all is "forever".
    let r = send(&c.app, post("/api/v1/suspend", "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ttl: i64 = redis(&c.store, redis::cmd("TTL").arg("rq:suspended")).await;
    assert_eq!(ttl, -1);
}

#[tokio::test]
async fn worker_commands_need_a_known_worker() {
    let c = ctx().await;
    for action in ["shutdown", "kill-horse"] {
        let r = send(&c.app, post(&format!("/api/v1/workers/ghost/{action}"), "")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}: {}", r.body);
    }
    let r = send(
        &c.app,
        post("/api/v1/workers/ghost/scale", r#"{"slots": 0}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // A worker hash of a Python-style worker: the command is published (nobody listens).
    let _: () = redis(
        &c.store,
        redis::cmd("HSET")
            .arg(keys::worker("w1"))
            .arg("state")
            .arg("idle")
            .arg("queues")
            .arg("default"),
    )
    .await;
    let _: () = redis(
        &c.store,
        redis::cmd("SADD").arg("rq:workers").arg(keys::worker("w1")),
    )
    .await;
    let r = send(&c.app, post("/api/v1/workers/w1/shutdown", "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["receivers"], 0);
    let a = last_audit(&c.store).await;
    assert_eq!((a.action.as_str(), a.target.as_str()), ("shutdown", "w1"));
    // Scale reaches Taskmill pools only: a Python worker would ignore it, so it is refused.
    let r = send(&c.app, post("/api/v1/workers/w1/scale", r#"{"slots": 3}"#)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("not a Taskmill pool"), "{}", r.body);
    let _: () = redis(
        &c.store,
        redis::cmd("HSET")
            .arg(keys::worker("w1"))
            .arg("taskmill_pool")
            .arg("host.1.abcd"),
    )
    .await;
    let r = send(&c.app, post("/api/v1/workers/w1/scale", r#"{"slots": 3}"#)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn audit_page_lists_actions_newest_first() {
    let c = ctx().await;
    send(&c.app, post("/api/v1/suspend", "")).await;
    send(&c.app, post("/api/v1/resume", "")).await;
    let r = send(&c.app, get("/api/v1/audit?limit=10")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["items"][0]["action"], "resume");
    assert_eq!(v["items"][1]["action"], "suspend");
    assert_eq!(v["total"], 2);
}

#[tokio::test]
async fn a_job_named_like_a_bulk_route_is_still_readable() {
    let c = ctx().await;
    let id = engine::enqueue::enqueue(&c.store, NewJob::new("q", "taskmill.echo").id("delete"))
        .await
        .unwrap();
    let r = send(&c.app, get("/api/v1/jobs/delete")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["summary"]["id"], id.as_str());
    let r = send(&c.app, get("/api/v1/jobs/cancel")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}
