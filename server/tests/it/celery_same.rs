//! Celery through RQ's code, at the HTTP surface (events applied as the subscription would:
//! the real worker runs in the engine's `celery_history` test): failure groups with a backend
//! column and filter, the Celery group page, search's `celery` part and its cursor, Celery task
//! names on /stats and in /api/v1/stats, Celery queue gauges and totals in /metrics.

use std::sync::Arc;

use app::state::Console;
use axum::http::StatusCode;
use engine::celery::{events, Celery, Transport};
use engine::Store;
use serde_json::json;
use server::serve::{router, ServeConfig};

use crate::support::{fresh_url, get, post, send, Ctx};

async fn ctx() -> (Ctx, Arc<Celery>) {
    let url = fresh_url();
    let store = Store::connect(&url).await.unwrap();
    let c = Celery::connect(&url, None, Transport::default()).unwrap();
    let _ = c.history.set(store.clone());
    let c = Arc::new(c);
    let console = Arc::new(Console::new(store.clone(), false).with_celery(c.clone()));
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

/// received → started → succeeded / failed, as a worker sends them.
async fn run_task(c: &Celery, id: &str, name: &str, kwargs: &str, fail: Option<&str>) {
    let t = engine::time::now();
    let base = |typ: &str, dt: f64| json!({"type": typ, "uuid": id, "hostname": "w1@h", "timestamp": t + dt, "queue": "mail"});
    let mut rec = base("task-received", 0.0);
    rec["name"] = json!(name);
    rec["args"] = json!("()");
    rec["kwargs"] = json!(kwargs);
    events::apply(c, &rec).await;
    events::apply(c, &base("task-started", 0.01)).await;
    let mut end = match fail {
        None => {
            let mut e = base("task-succeeded", 0.2);
            e["runtime"] = json!(0.19);
            e["result"] = json!("'sent'");
            e
        }
        Some(msg) => {
            let mut e = base("task-failed", 0.3);
            e["exception"] = json!(format!("ConnectionError('{msg}')"));
            e["traceback"] = json!(format!(
                "Traceback (most recent call last):\n  File \"/app/mail.py\", line 7, in send\n    smtp.send(to)\nConnectionError: {msg}\n"
            ));
            e
        }
    };
    end["hostname"] = json!("w1@h");
    events::apply(c, &end).await;
}

#[tokio::test]
async fn groups_search_stats_and_metrics_cover_celery() {
    let (ctx, c) = ctx().await;
    run_task(&c, "ok-1", "mail.send", "{'to': 'alice@example.org'}", None).await;
    run_task(&c, "ok-2", "mail.send", "{'to': 'bob@example.org'}", None).await;
    run_task(
        &c,
        "bad-1",
        "mail.send",
        "{'to': 'x@example.org'}",
        Some("host 10.0.0.1 refused"),
    )
    .await;
    run_task(
        &c,
        "bad-2",
        "mail.send",
        "{'to': 'y@example.org'}",
        Some("host 10.0.0.2 refused"),
    )
    .await;

    // Failure groups: one Celery group of 2, beside RQ's (none), filterable by backend.
    let r = send(&ctx.app, get("/api/v1/failed/groups")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", r.body);
    assert_eq!(
        (
            items[0]["backend"].as_str(),
            items[0]["count"].as_u64(),
            items[0]["exc_type"].as_str()
        ),
        (Some("celery"), Some(2), Some("ConnectionError"))
    );
    assert_eq!(items[0]["queues"], json!(["mail"]));
    let fp = items[0]["fingerprint"].as_str().unwrap().to_string();
    let r = send(&ctx.app, get("/api/v1/failed/groups?backend=rq")).await;
    assert_eq!(r.json()["items"], json!([]));
    let r = send(&ctx.app, get("/api/v1/failed/groups?backend=sidekiq")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(
        &ctx.app,
        get(&format!("/api/v1/failed/groups/{fp}?backend=celery")),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["total"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    let page = send(&ctx.app, get("/failed/groups")).await;
    assert!(
        page.body.contains(&format!("celery-group-row-{fp}")),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-testid=\"backend-celery\""));
    let page = send(
        &ctx.app,
        get(&format!("/failed/groups/{fp}?backend=celery")),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("/celery/tasks/bad-1") && page.body.contains("/celery/tasks/bad-2"));
    // Retry all: a stale count is a conflict; the dry run counts the live failures.
    let r = send(
        &ctx.app,
        post(&format!("/api/v1/failed/groups/{fp}/retry?dry_run=1"), ""),
    )
    .await;
    assert_eq!(r.json()["count"], 2, "{}", r.body);
    let r = send(
        &ctx.app,
        post(
            &format!("/api/v1/failed/groups/{fp}/retry"),
            r#"{"expected": 5}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // A later success takes a task out of its group.
    let ok = json!({"type": "task-succeeded", "uuid": "bad-2", "hostname": "w1@h",
                        "timestamp": engine::time::now() + 5.0, "runtime": 0.1});
    events::apply(&c, &ok).await;
    let r = send(&ctx.app, get("/api/v1/failed/groups")).await;
    assert_eq!(r.json()["items"][0]["count"], 1, "{}", r.body);

    // Search: a string inside kwargs; the Celery part has its own cursor.
    let r = send(&ctx.app, get("/api/v1/search?q=bob%40example")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["items"], json!([]));
    assert_eq!(v["celery"]["items"][0]["id"], "ok-2", "{v}");
    assert_eq!(v["celery"]["scanned"], 4);
    let r = send(&ctx.app, get("/api/v1/search?q=name:mail.send&limit=1")).await;
    let cur = r.json()["celery"]["cursor"].as_str().unwrap().to_string();
    let r = send(
        &ctx.app,
        get(&format!(
            "/api/v1/search?q=name:mail.send&limit=1&celery_cursor={cur}"
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["celery"]["items"].as_array().unwrap().len(), 1);
    let r = send(&ctx.app, get("/api/v1/search?q=state:bogus")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let page = send(&ctx.app, get("/search?q=alice")).await;
    assert!(
        page.body.contains("data-testid=\"celery-search\"")
            && page.body.contains("/celery/tasks/ok-1")
    );
    let exact = send(&ctx.app, get("/search?q=ok-1")).await;
    assert_eq!(exact.status, StatusCode::FOUND);

    // History: Celery task names in the functions, its queue as `celery:mail`.
    let r = send(&ctx.app, get("/api/v1/stats/functions?range=1h")).await;
    let f = r.json();
    let send_fn = f
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == "mail.send")
        .unwrap();
    assert_eq!(
        (send_fn["count"].as_u64(), send_fn["failed"].as_u64()),
        (Some(5), Some(2)),
        "{f}"
    );
    let r = send(
        &ctx.app,
        get("/api/v1/stats/series?metric=finished&queue=celery:mail"),
    )
    .await;
    let total: f64 = r.json()["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p[1].as_f64())
        .sum();
    assert_eq!(total, 3.0, "{}", r.body);
    let stats = send(&ctx.app, get("/stats")).await;
    assert!(stats.body.contains("mail.send"));

    // Metrics: Celery's totals under celery:<queue>, its queue gauges (the queue as a worker
    // declares it: a binding).
    let member = engine::keys::celery::binding_member("mail", "mail", engine::keys::celery::SEP);
    let _: () = crate::support::redis(
        &ctx.store,
        redis::cmd("SADD").arg("_kombu.binding.mail").arg(member),
    )
    .await;
    let _: () = crate::support::redis(&ctx.store, redis::cmd("LPUSH").arg("mail").arg("{}")).await;
    // The sampler's Celery part: the queue's depth into the history's gauges.
    let written = engine::celery::history::sample(&c, engine::time::now() as i64)
        .await
        .unwrap();
    assert_eq!(written, 1);
    let r = send(
        &ctx.app,
        get("/api/v1/stats/series?metric=depth&queue=celery:mail"),
    )
    .await;
    let last = r.json()["points"].as_array().unwrap().last().unwrap()[1].clone();
    assert_eq!(last, json!(1.0), "{}", r.body);
    let m = send(&ctx.app, get("/metrics")).await;
    assert!(
        m.body
            .contains("taskmill_jobs_finished_total{queue=\"celery:mail\"} 3"),
        "{}",
        m.body
    );
    assert!(m.body.contains("taskmill_celery_queue_consumers"));
}
