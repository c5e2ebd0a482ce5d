//! Job data is hostile: payloads in ids' neighbours (description, args, tracebacks, queue
//! names) must come out as text, never markup.

use crate::support::{console, failed, queued, render, Job};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

fn assert_escaped(html: &str, page: &str) {
    assert!(!html.contains(SCRIPT), "{page}: raw <script> payload");
    assert!(!html.contains("<img src=x"), "{page}: raw <img> payload");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&lt;img"),
        "{page}: payload missing entirely"
    );
}

#[tokio::test]
async fn payloads_in_job_data_render_escaped_everywhere() {
    let c = console(false).await;
    let mut job = Job::new("x1", "default", "failed");
    job.description = Some(format!("desc {SCRIPT} {IMG}"));
    job.args = serde_json::json!([SCRIPT, IMG]);
    failed(&c, job, &format!("Traceback\nValueError: {SCRIPT}{IMG}")).await;
    let mut evil_queue = Job::new("x2", IMG, "queued");
    evil_queue.description = Some(SCRIPT.into());
    queued(&c, evil_queue).await;

    for path in [
        "/",
        "/queues/default?list=failed",
        "/failed",
        "/jobs/x1",
        "/jobs/x2",
    ] {
        let r = render(c.clone(), path).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{path}: {}", r.html);
        assert_escaped(&r.html, path);
    }
}
