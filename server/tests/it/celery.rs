//! The Celery API and pages without a Celery worker (those run in the engine's
//! `celery_workers` test): routes answer 404 without `--celery-broker`; queues nobody consumes
//! are listed; a task never seen is 404; a control command nobody answers is 504 `no_reply`;
//! hostile messages render as undecodable; read-only and cross-site are refused as for RQ.

use std::sync::Arc;

use app::state::Console;
use axum::http::{header, StatusCode};
use engine::celery::{Celery, Transport};
use engine::Store;
use server::serve::{router, ServeConfig};

use crate::support::{fresh_url, get, post, post_builder, redis, send, Ctx};

async fn celery_ctx(read_only: bool) -> (Ctx, Arc<Celery>) {
    let url = fresh_url();
    let store = Store::connect(&url).await.unwrap();
    let mut c = Celery::connect(&url, None, Transport::default()).unwrap();
    c.timeout = std::time::Duration::from_millis(300);
    let c = Arc::new(c);
    let console = Arc::new(Console::new(store.clone(), read_only).with_celery(c.clone()));
    let app = router(console.clone(), ServeConfig::default());
    (
        Ctx {
            store,
            console,
            app,
        },
        c,
    )
}

/// A protocol-2 message as kombu LPUSHes it (body base64 of `[args, kwargs, embed]`).
fn message(id: &str, task: &str) -> String {
    serde_json::json!({
        "body": "W1sxLCAyXSwge30sIHt9XQ==", "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"lang": "py", "task": task, "id": id, "argsrepr": "(1, 2)", "kwargsrepr": "{}",
                    "root_id": id, "parent_id": null, "retries": 0, "eta": null},
        "properties": {"correlation_id": id, "priority": 0, "body_encoding": "base64",
                       "delivery_info": {"exchange": "", "routing_key": "orphans"},
                       "delivery_tag": "tag-1"}
    })
    .to_string()
}

#[tokio::test]
async fn without_a_broker_everything_is_404() {
    let ctx = crate::support::ctx().await;
    let r = send(&ctx.app, get("/api/v1/celery/queues")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let r = send(&ctx.app, get("/celery")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let home = send(&ctx.app, get("/")).await;
    assert!(
        !home.body.contains("href=\"/celery\""),
        "no Celery nav without a broker"
    );
}

#[tokio::test]
async fn queues_tasks_and_no_reply() {
    let (ctx, _c) = celery_ctx(false).await;
    let s = &ctx.store;
    let _: () = redis(
        s,
        redis::cmd("LPUSH")
            .arg("orphans")
            .arg(message("m-1", "t.add")),
    )
    .await;
    let _: () = redis(s, redis::cmd("LPUSH").arg("orphans").arg("{not json")).await;
    let member =
        engine::keys::celery::binding_member("orphans", "orphans", engine::keys::celery::SEP);
    let _: () = redis(
        s,
        redis::cmd("SADD").arg("_kombu.binding.orphans").arg(member),
    )
    .await;

    let r = send(&ctx.app, get("/api/v1/celery/queues")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let q = &r.json()[0];
    assert_eq!(
        (
            q["name"].as_str(),
            q["ready"].as_u64(),
            q["consumers"].as_u64()
        ),
        (Some("orphans"), Some(2), Some(0))
    );
    assert_eq!(q["reserved"], 0);

    let page = send(&ctx.app, get("/celery/queues/orphans")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("undecodable"), "{}", page.body);
    assert!(page.body.contains("t.add"));
    let home = send(&ctx.app, get("/celery")).await;
    assert!(home.body.contains("orphans") && home.body.contains("href=\"/celery\""));

    // The peek captured m-1, so its task page exists (PENDING) before any event.
    let t = send(&ctx.app, get("/api/v1/celery/tasks/m-1")).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    assert_eq!(t.json()["state"], "PENDING");
    let r = send(&ctx.app, get("/api/v1/celery/tasks/never-seen")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&ctx.app, get("/api/v1/celery/tasks?state=BOGUS")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(&ctx.app, get("/api/v1/celery/tasks?state=PENDING&limit=5")).await;
    assert_eq!(r.status, StatusCode::OK);

    // Nobody answers: 504 no_reply, and nothing was audited as done... but the attempt is not.
    let r = send(
        &ctx.app,
        post("/api/v1/celery/workers/ghost@x/pool", r#"{"grow": 1}"#),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::GATEWAY_TIMEOUT, "no_reply"),
        "{}",
        r.body
    );
    let r = send(
        &ctx.app,
        post(
            "/api/v1/celery/tasks/m-1/revoke",
            r#"{"terminate": true, "signal": "SIGTERM"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    // Bad input is a 400 before anything is sent.
    let r = send(
        &ctx.app,
        post(
            "/api/v1/celery/workers/w@x/pool",
            r#"{"grow": 1, "shrink": 1}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(
        &ctx.app,
        post(
            "/api/v1/celery/tasks/m-1/revoke",
            r#"{"signal": "SIGNOPE"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(
        &ctx.app,
        post(
            "/api/v1/celery/workers/w@x/rate-limit",
            r#"{"task": "t", "rate": "fast"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Retry of a task that has not failed is a conflict with the reason.
    let r = send(&ctx.app, post("/api/v1/celery/tasks/m-1/retry", "")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Shutdown is a cast: answered with how many listened (0 here).
    let r = send(&ctx.app, post("/api/v1/celery/workers/w@x/shutdown", "")).await;
    assert_eq!(
        (r.status, r.json()["receivers"].as_u64()),
        (StatusCode::OK, Some(0))
    );
    assert_eq!(
        crate::support::last_audit(s).await.action,
        "celery-shutdown"
    );

    // Flower's metric names, from events the console received.
    let ev = serde_json::json!({"type": "worker-heartbeat", "hostname": "w1@h", "freq": 2.0,
                                "active": 3, "processed": 9});
    engine::celery::events::apply(&_c, &ev).await;
    let m = send(&ctx.app, get("/metrics")).await;
    assert!(
        m.body.contains("flower_worker_online{worker=\"w1@h\"} 1"),
        "{}",
        m.body
    );
    assert!(m
        .body
        .contains("flower_worker_number_of_currently_executing_tasks{worker=\"w1@h\"} 3"));
    assert!(m
        .body
        .contains("flower_events_total{task=\"\",type=\"worker-heartbeat\",worker=\"w1@h\"} 1"));
    assert!(m
        .body
        .contains("taskmill_celery_queue_messages{queue=\"orphans\",state=\"ready\"} 2"));
}

#[tokio::test]
async fn read_only_and_cross_site_are_refused() {
    let (ctx, _c) = celery_ctx(true).await;
    let r = send(&ctx.app, post("/api/v1/celery/workers/w@x/shutdown", "")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "read_only")
    );
    let (ctx, _c) = celery_ctx(false).await;
    let req = post_builder("/api/v1/celery/workers/w@x/shutdown")
        .header(header::ORIGIN, "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = send(&ctx.app, req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&ctx.app, get("/api/v1/celery/workers")).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "[]"));
}

/// The Celery buttons are plain forms: without JavaScript a shutdown posts, is audited and
/// redirects back with a flash; a revoke nobody answers comes back as an error flash; a
/// cross-site form post never reaches the action.
#[tokio::test]
async fn forms_work_without_javascript() {
    use crate::support::form_post;
    use axum::body::Body;
    let (ctx, _c) = celery_ctx(false).await;
    let req = form_post("/ui/celery-shutdown")
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .body(Body::from("worker=w1%40h&return_to=/celery/workers"))
        .unwrap();
    let r = send(&ctx.app, req).await;
    assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
    let a = crate::support::last_audit(&ctx.store).await;
    assert_eq!(
        (a.action.as_str(), a.target.as_str()),
        ("celery-shutdown", "w1@h")
    );

    let req = form_post("/ui/celery-revoke")
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .body(Body::from(
            "id=t-1&terminate=on&signal=SIGTERM&return_to=/celery/tasks/t-1",
        ))
        .unwrap();
    let r = send(&ctx.app, req).await;
    let location = r
        .headers
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string());
    assert!(
        location
            .as_deref()
            .is_some_and(|l| l.starts_with("/celery/tasks/t-1")),
        "{location:?} {}",
        r.body
    );

    let req = form_post("/ui/celery-shutdown")
        .header(header::ORIGIN, "https://attacker.example")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("worker=w2%40h&return_to=/"))
        .unwrap();
    assert_eq!(send(&ctx.app, req).await.status, StatusCode::FORBIDDEN);
    assert_ne!(crate::support::last_audit(&ctx.store).await.target, "w2@h");
}

/// Two consoles on one broker share the task history, and an event both receive is recorded
/// once.
#[tokio::test]
async fn consoles_share_task_history() {
    let (a, ca) = celery_ctx(false).await;
    let url = ca.broker.url().to_string();
    let cb = Celery::connect(&url, None, Transport::default()).unwrap();
    let ev = serde_json::json!({"type": "task-received", "uuid": "shared-1", "name": "t.add",
                                "timestamp": 10.5, "hostname": "w@h", "args": "(1,)"});
    assert!(engine::celery::tasks::record(&ca, &ev).await.unwrap());
    assert!(
        !engine::celery::tasks::record(&cb, &ev).await.unwrap(),
        "recorded once"
    );
    let seen_by_b = engine::celery::tasks::list(&cb, None, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(seen_by_b.total, 1);
    let r = send(&a.app, get("/api/v1/celery/tasks/shared-1")).await;
    assert_eq!(
        (r.json()["state"].as_str(), r.json()["worker"].as_str()),
        (Some("RECEIVED"), Some("w@h"))
    );
}
