//! One operator vocabulary: the same action reached from the API, a `/ui` form and the CLI
//! leaves the same audit record, obeys the same limits and is refused the same way.

use std::sync::Arc;

use app::state::Console;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use engine::{keys, Store};
use server::serve::{router, ServeConfig};

use crate::support::*;

struct Three {
    url: String,
    store: Store,
    app: axum::Router,
}

async fn three() -> Three {
    let url = fresh_url();
    let store = Store::connect(&url).await.expect("connect");
    let app = router(
        Arc::new(Console::new(store.clone(), false)),
        ServeConfig::default(),
    );
    Three { url, store, app }
}

fn cli(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_taskmill"))
        .args(args)
        .env("REDIS_URL", url)
        .env("USER", "ops")
        .env_remove("RUST_LOG")
        .output()
        .expect("run taskmill")
}

fn form(uri: &str, body: String) -> Request<Body> {
    form_post(uri).body(Body::from(body)).unwrap()
}

/// The names of the last `n` audit records, oldest first.
async fn last_actions(store: &Store, n: u64) -> Vec<(String, String, u64)> {
    let page = engine::audit::page(store, 0, n).await.unwrap();
    let mut v: Vec<_> = page
        .items
        .into_iter()
        .map(|e| (e.action, e.target, e.count))
        .collect();
    v.reverse();
    v
}

#[tokio::test]
async fn requeue_queue_is_one_action_from_every_way_in() {
    let t = three().await;
    failed_job(&t.store, "vq").await;
    let r = send(&t.app, post("/api/v1/queues/vq/requeue-failed", "")).await;
    assert_eq!(r.json()["count"], 1, "{}", r.body);

    work(&t.store, &["vq"]).await;
    let r = send(
        &t.app,
        form(
            "/ui/requeue-queue",
            "queue=vq&expected=1&return_to=/failed".into(),
        ),
    )
    .await;
    assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);

    work(&t.store, &["vq"]).await;
    let out = cli(&t.url, &["requeue", "--queue", "vq"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");

    let expected = ("requeue-queue".to_string(), "vq".to_string(), 1);
    assert_eq!(last_actions(&t.store, 3).await, vec![expected; 3]);
    let who: Vec<String> = engine::audit::page(&t.store, 0, 3)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.who)
        .collect();
    assert_eq!(who, ["cli:ops", "local", "local"]);
}

#[tokio::test]
async fn a_changed_count_is_a_conflict_everywhere() {
    let t = three().await;
    enqueue(&t.store, "cq", "taskmill.echo").await;
    enqueue(&t.store, "cq", "taskmill.echo").await;
    let r = send(
        &t.app,
        post("/api/v1/queues/cq/empty", r#"{"expected": 1}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.code(), "conflict");
    let r = send(
        &t.app,
        form(
            "/ui/empty",
            "queue=cq&expected=1&return_to=/queues/cq".into(),
        ),
    )
    .await;
    let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(to.contains("err=The%20number%20of%20queued%20jobs"), "{to}");
    assert_eq!(
        llen(&t.store, &keys::queue("cq")).await,
        2,
        "nothing removed"
    );

    let r = send(
        &t.app,
        post("/api/v1/queues/cq/empty", r#"{"expected": 2}"#),
    )
    .await;
    assert_eq!(r.json()["count"], 2, "{}", r.body);
}

#[tokio::test]
async fn limits_are_the_engines_whichever_way_in() {
    let t = three().await;
    let long = "w".repeat(513);
    // Worker names: 512 bytes at most, everywhere (the API used to allow 512, the UI 300).
    let r = send(
        &t.app,
        post(&format!("/api/v1/workers/{long}/shutdown"), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = send(
        &t.app,
        form("/ui/shutdown", format!("worker={long}&return_to=/workers")),
    )
    .await;
    let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(
        to.contains("err=invalid%20argument%3A%20invalid%20worker%20name"),
        "{to}"
    );
    let out = cli(&t.url, &["shutdown", &long]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    // Suspend: up to a year, everywhere (the UI used to stop at 30 days, the CLI nowhere).
    let year = engine::limits::MAX_SUSPEND_SECS;
    for secs in [year, year + 1] {
        let ok = secs == year;
        let body = format!(r#"{{"duration": {secs}}}"#);
        let r = send(&t.app, post("/api/v1/suspend", &body)).await;
        assert_eq!(r.status.is_success(), ok, "{}", r.body);
        let r = send(
            &t.app,
            form("/ui/suspend", format!("duration={secs}&return_to=/workers")),
        )
        .await;
        let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
        assert_eq!(to.contains("ok="), ok, "{to}");
        let out = cli(&t.url, &["suspend", "--duration", &secs.to_string()]);
        assert_eq!(out.status.success(), ok, "{out:?}");
    }
    // Slots: 1..=256 from the API, the form and the CLI alike.
    let out = cli(&t.url, &["scale", "some-worker", "0"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[tokio::test]
async fn old_audit_names_show_as_canonical_ones() {
    let t = three().await;
    let old = serde_json::json!({
        "at": 1.0, "who": "x", "action": "requeue_failed", "target": "q", "count": 3
    });
    let mut conn = t.store.conn();
    let _: () = redis::cmd("LPUSH")
        .arg(keys::AUDIT)
        .arg(old.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    let r = send(&t.app, get("/api/v1/audit")).await;
    assert_eq!(
        r.json()["items"][0]["action"],
        "requeue-queue",
        "{}",
        r.body
    );
}
