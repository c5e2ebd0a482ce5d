//! The cross-queue pages and the job timeline with hostile job data: queue names, descriptions
//! and dependency ids come out as text; an undecodable deferred job or a dependency whose hash
//! is gone renders as such; a read-only console shows no row actions; Redis unreachable is 503.

use axum::http::StatusCode;
use redis::AsyncCommands;

use crate::support::{conn, console, failed, render, unreachable_console, Job};

const IMG: &str = "\"><img src=x onerror=alert(1)>";

#[tokio::test]
async fn cross_queue_pages_render_hostile_data_as_text() {
    let c = console(false).await;
    let now = engine::time::now();
    let mut con = conn(&c);
    for (id, queue, status, zset, score) in [
        ("s1", "alpha", "scheduled", "rq:scheduled:alpha", now + 60.0),
        ("s2", IMG, "scheduled", "rq:scheduled:", now + 30.0),
        ("d1", "alpha", "deferred", "rq:deferred:alpha", now - 5.0),
        ("c1", IMG, "canceled", "rq:canceled:", now - 5.0),
    ] {
        let mut job = Job::new(id, queue, status);
        job.description = Some(format!("desc {IMG}"));
        job.write(&c).await;
        let key = if zset.ends_with(':') {
            format!("{zset}{IMG}")
        } else {
            zset.to_string()
        };
        let _: () = con.zadd(key, id, score).await.unwrap();
    }
    // d1 waits on s1 (scheduled) and on a job whose hash is gone.
    let _: () = con
        .sadd("rq:job::d1:dependencies", &["s1", "gone"])
        .await
        .unwrap();

    let r = render(c.clone(), "/scheduled").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(!r.html.contains("<img src=x"));
    let (soon, later) = (
        r.html.find("job-row-s2").unwrap(),
        r.html.find("job-row-s1").unwrap(),
    );
    assert!(soon < later, "soonest first across queues");
    assert!(r.html.contains(r#"data-testid="enqueue-now-s1""#));
    assert!(
        r.html
            .contains(r#"data-testid="scheduled-total" class="count">2<"#),
        "{}",
        r.html
    );

    let r = render(c.clone(), "/deferred").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains(r#"href="/jobs/s1""#));
    assert!(r.html.contains("status-scheduled"));
    assert!(r.html.contains("status-missing"), "the gone dependency");
    assert!(r.html.contains(r#"data-testid="deps-d1""#));

    let r = render(c.clone(), "/canceled").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(!r.html.contains("<img src=x"));
    assert!(r.html.contains("job-row-c1"));
    assert!(r
        .html
        .contains(r#"href="/api/v1/export/canceled?format=json""#));

    let ro = console(true).await;
    let r = render(ro, "/scheduled").await;
    assert!(!r.html.contains("enqueue-now-"), "read-only: no actions");

    let down = unreachable_console().await;
    for path in ["/scheduled", "/deferred", "/canceled"] {
        let r = render(down.clone(), path).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }
}

#[tokio::test]
async fn job_page_shows_the_timeline_with_escaped_exception() {
    let c = console(false).await;
    failed(
        &c,
        Job::new("t1", "default", "failed"),
        &format!("Traceback\nValueError: {IMG}"),
    )
    .await;
    let r = render(c, "/jobs/t1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    for testid in [
        "timeline",
        "timeline-created",
        "timeline-enqueued",
        "timeline-failed",
        "timeline-now",
    ] {
        assert!(
            r.html.contains(&format!("data-testid=\"{testid}\"")),
            "{testid}"
        );
    }
    assert!(!r.html.contains("<img src=x"));
    assert!(
        r.html.contains("ValueError: &quot;&gt;&lt;img")
            || r.html.contains("ValueError: \"&gt;&lt;img")
    );
}
