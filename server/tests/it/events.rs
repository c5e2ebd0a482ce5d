//! `GET /api/v1/events`: the live feed over SSE. A change in Redis reaches an open stream, and
//! any number of open streams cost one snapshot read per tick (counted by the console).

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use futures::StreamExt;
use server::security::AuthConfig;
use server::serve::ServeConfig;
use tower::ServiceExt;

use crate::support::{ctx, ctx_with, enqueue, failed_job, get, send};

type Frames = futures::stream::BoxStream<'static, Result<axum::body::Bytes, axum::Error>>;

async fn open(app: &axum::Router) -> Frames {
    let res = app.clone().oneshot(get("/api/v1/events")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/event-stream",
        "{:?}",
        res.headers()
    );
    res.into_body().into_data_stream().boxed()
}

/// Reads until an event named `name` whose data satisfies `want`; its data.
async fn next_event(body: &mut Frames, name: &str, want: impl Fn(&str) -> bool) -> String {
    let mut buf = String::new();
    let read = async {
        while let Some(chunk) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk.expect("stream chunk")));
            while let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                let kind = event.lines().find_map(|l| l.strip_prefix("event: "));
                let data = event.lines().find_map(|l| l.strip_prefix("data: "));
                if let (Some(k), Some(d)) = (kind, data) {
                    if k == name && want(d) {
                        return d.to_string();
                    }
                }
            }
        }
        panic!("stream ended before a {name} event");
    };
    tokio::time::timeout(Duration::from_secs(15), read)
        .await
        .unwrap_or_else(|_| panic!("no {name} event within 15 s"))
}

#[tokio::test]
async fn a_change_reaches_an_open_stream() {
    let c = ctx().await;
    let mut body = open(&c.app).await;
    let first = next_event(&mut body, "snapshot", |_| true).await;
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert!(
        v["snapshot"]["queues"].as_array().unwrap().is_empty(),
        "{v}"
    );

    enqueue(&c.store, "live-q", "taskmill.echo").await;
    let data = next_event(&mut body, "snapshot", |d| d.contains("live-q")).await;
    let v: serde_json::Value = serde_json::from_str(&data).unwrap();
    let q = &v["snapshot"]["queues"][0];
    assert_eq!(
        (q["name"].as_str(), q["queued"].as_u64()),
        (Some("live-q"), Some(1))
    );
}

#[tokio::test]
async fn many_subscribers_cost_one_snapshot_per_tick() {
    let c = ctx().await;
    let mut streams = Vec::new();
    for _ in 0..8 {
        let mut s = open(&c.app).await;
        next_event(&mut s, "snapshot", |_| true).await;
        streams.push(s);
    }
    assert_eq!(c.console.events.subscribers(), 8);
    let before = c.console.snapshot_reads();
    // Keep the queue changing so every tick publishes to all eight.
    let started = std::time::Instant::now();
    for i in 0..4 {
        enqueue(&c.store, "busy", "taskmill.echo").await;
        for s in &mut streams {
            let n = i + 1;
            next_event(s, "snapshot", |d| d.contains(&format!("\"queued\":{n}"))).await;
        }
    }
    let ticks = started.elapsed().as_secs_f64() / app::events::TICK.as_secs_f64();
    let reads = c.console.snapshot_reads() - before;
    assert!(reads >= 1, "the ticker reads snapshots");
    assert!(
        (reads as f64) <= ticks + 2.0,
        "{reads} snapshot reads for 8 subscribers over {ticks:.1} ticks"
    );
}

#[tokio::test]
async fn the_stream_needs_the_console_credentials() {
    let cfg = ServeConfig {
        auth: AuthConfig {
            users: vec![server::security::User::new(
                "alice",
                "pw",
                app::auth::Role::Admin,
            )],
            ..AuthConfig::default()
        },
        ..ServeConfig::default()
    };
    let c = ctx_with(cfg, true).await;
    let r = send(&c.app, get("/api/v1/events")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let req = axum::http::Request::builder()
        .uri("/api/v1/events")
        .header(header::HOST, "127.0.0.1:9181")
        .header(header::AUTHORIZATION, "Basic YWxpY2U6cHc=")
        .body(Body::empty())
        .unwrap();
    let res = c.app.clone().oneshot(req).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "read-only consoles stream too"
    );
    c.console.events.close();
    let mut body = res.into_body().into_data_stream();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while body.next().await.is_some() {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "closing the feed ends the stream (graceful shutdown)"
    );
}

/// `GET /ui/rows`: one page of a queue's list (or of the failed jobs), the live rows' re-read.
/// Browsers asking at once share one read; a read older than the feed's latest frame is not
/// served; bad parameters are a 400.
#[tokio::test]
async fn live_rows_are_one_shared_read_per_change() {
    let c = ctx().await;
    let first = enqueue(&c.store, "rows-q", "taskmill.echo").await;
    let mut feed = open(&c.app).await;
    next_event(&mut feed, "snapshot", |d| d.contains("rows-q")).await;

    let url = "/ui/rows?queue=rows-q&list=queued&page=1&size=10";
    let before = c.console.events.rows.reads();
    let replies = futures::future::join_all((0..8).map(|_| send(&c.app, get(url)))).await;
    for r in &replies {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = r.json();
        assert_eq!(v["total"], 1, "{v}");
        assert_eq!(v["jobs"][0]["id"], first.as_str(), "{v}");
    }
    assert_eq!(
        c.console.events.rows.reads() - before,
        1,
        "eight browsers asking at once cost one read"
    );

    // A change the feed announced is in the next answer, even within the cache's second.
    let second = enqueue(&c.store, "rows-q", "taskmill.echo").await;
    next_event(&mut feed, "snapshot", |d| d.contains("\"queued\":2")).await;
    let v = send(&c.app, get(url)).await.json();
    assert_eq!(v["total"], 2, "{v}");
    assert_eq!(v["jobs"][1]["id"], second.as_str(), "{v}");

    // The failed page's rows: every failing queue (as of the frame that announced it).
    let failed = failed_job(&c.store, "rows-f").await;
    next_event(&mut feed, "snapshot", |d| d.contains("rows-f")).await;
    let r = send(&c.app, get("/ui/rows?list=failed&page=1&size=10")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["jobs"][0]["id"], failed.as_str(), "{}", r.body);

    for bad in [
        "/ui/rows?queue=rows-q&list=bogus&page=1&size=10",
        "/ui/rows?queue=rows-q&list=queued&page=0&size=10",
        "/ui/rows?queue=rows-q&list=queued&page=1&size=7",
        "/ui/rows?list=queued&page=1&size=10",
    ] {
        assert_eq!(
            send(&c.app, get(bad)).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

/// `GET /ui/job_head`: the job page's live status and facts.
#[tokio::test]
async fn job_head_reads_the_live_fields() {
    let c = ctx().await;
    let id = failed_job(&c.store, "head-q").await;
    let r = send(&c.app, get(&format!("/ui/job_head?id={id}"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "failed", "{}", r.body);
    let gone = send(&c.app, get("/ui/job_head?id=0000-not-there")).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert!(gone.json().is_null(), "{}", gone.body);
    let bad = send(&c.app, get("/ui/job_head?id=a%20b")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
}
