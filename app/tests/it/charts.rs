//! Charts and live strips on the pages: rendered on the server (complete without JavaScript),
//! the empty state before anything was recorded, range and sort validation, hostile names.

use axum::http::StatusCode;

use crate::support::{console, queued, render, Job};

#[tokio::test]
async fn overview_renders_its_charts_with_the_empty_state_and_a_range_switch() {
    let c = console(false).await;
    queued(&c, Job::new("q1", "default", "queued")).await;
    let r = render(c.clone(), "/").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    for id in ["chart-throughput", "chart-depth", "chart-age"] {
        assert!(r.html.contains(&format!(r#"data-testid="{id}""#)), "{id}");
    }
    assert!(
        r.html.contains("times in UTC"),
        "said on the page without JS"
    );
    assert!(r.html.contains("no data yet"));
    assert!(r.html.contains(r#"href="/?range=24h""#));
    assert!(r.html.contains("<svg") && r.html.contains("viewBox=\"0 0 640 180\""));
    assert!(
        !r.html.contains(" style="),
        "the CSP blocks style attributes"
    );

    let r = render(c.clone(), "/?range=7d").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.html.contains("per hour"),
        "7 days are drawn in hourly buckets"
    );
    let r = render(c, "/?range=2w").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.html);
}

#[tokio::test]
async fn queue_and_workers_pages_have_their_charts_and_live_strips() {
    let c = console(false).await;
    queued(&c, Job::new("q1", "mail", "queued")).await;
    let r = render(c.clone(), "/queues/mail").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains(r#"data-testid="chart-throughput-mail""#));
    assert!(r.html.contains(r#"data-testid="live-watch""#));
    assert!(
        r.html.contains("1 queued"),
        "live counts as of the page load"
    );
    assert!(!r.html.contains(r#"data-testid="live-reload""#));
    assert!(
        r.html.contains(r#"data-testid="live-rows""#)
            && r.html.contains(r#"data-testid="job-row-q1""#),
        "the rows are rendered inside their live island"
    );

    let r = render(c.clone(), "/workers?range=30d").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains(r#"data-testid="chart-busy""#));
    assert!(r.html.contains(r#"data-testid="live-watch""#));
    assert!(r.html.contains(r#"data-testid="live-workers""#));

    for path in ["/failed", "/jobs/q1"] {
        let r = render(c.clone(), path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.html.contains(r#"data-testid="live-watch""#), "{path}");
    }
    let r = render(c.clone(), "/jobs/q1").await;
    assert!(r.html.contains(r#"data-testid="job-live-facts""#));
    assert!(r.html.contains(r#"data-testid="job-status""#));
}

#[tokio::test]
async fn hostile_queue_names_are_text_in_chart_legends() {
    let c = console(false).await;
    let evil = "<svg onload=alert(1)>";
    queued(&c, Job::new("e1", evil, "queued")).await;
    let r = render(c, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.html.contains(evil), "raw markup from a queue name");
    assert!(
        r.html.contains("&lt;svg onload=alert(1)&gt;"),
        "the depth legend names the queue, escaped"
    );
}

#[tokio::test]
async fn metrics_page_is_in_the_nav_and_validates_its_query() {
    let c = console(false).await;
    let r = render(c.clone(), "/stats").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains(r#"href="/stats""#) && r.html.contains("Metrics"));
    assert!(r.html.contains(r#"data-testid="stats-empty""#));
    assert!(r.html.contains(r#"data-testid="range-switch""#));
    for bad in ["/stats?range=1y", "/stats?sort=evil"] {
        let r = render(c.clone(), bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// The vertex counts of every data line in `html`.
fn series_vertices(html: &str) -> Vec<usize> {
    html.split(r#"<polyline class="series""#)
        .skip(1)
        .map(|p| {
            let pts = p.split("points=\"").nth(1).unwrap_or("");
            pts[..pts.find('"').unwrap_or(0)].split_whitespace().count()
        })
        .collect()
}

#[tokio::test]
async fn recorded_jobs_draw_one_vertex_per_bucket_and_fill_the_metrics_page() {
    let c = console(false).await;
    queued(&c, Job::new("q1", "mail", "queued")).await;
    let now = engine::time::now() as i64;
    let evil = "<b>evil</b>.run";
    let jobs: Vec<_> = (0..20)
        .map(|i| engine::stats::JobRecord {
            queue: "mail".into(),
            function: if i % 2 == 0 {
                evil.into()
            } else {
                "tasks.send".into()
            },
            ok: i % 5 != 0,
            duration_s: 0.02 * (i + 1) as f64,
        })
        .collect();
    engine::stats::record(&c.store, now, &jobs).await.unwrap();
    let snap = c.snapshot().await.unwrap();
    engine::stats::write_sample(&c.store, &snap, now)
        .await
        .unwrap();

    let r = render(c.clone(), "/queues/mail").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    let v = series_vertices(&r.html);
    // finished + failed: a vertex per minute of the hour; depth and age: the one sampled bucket.
    assert_eq!(&v[..2], &[60, 60], "{v:?}");
    assert!(v[2..].iter().all(|n| *n == 1), "{v:?}");

    let r = render(c.clone(), "/stats?sort=count").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(!r.html.contains(evil), "function names are text");
    assert!(r.html.contains("&lt;b&gt;evil&lt;/b&gt;.run"));
    assert_eq!(r.html.matches(r#"data-testid="histogram""#).count(), 2);
    assert!(r.html.contains(r#"href="/stats?range=1h&amp;sort=p99""#));
    // 10 runs of tasks.send, 2 of them failed (i = 5, 15).
    assert!(r.html.contains("20.0 %"), "failure share shown");
}
