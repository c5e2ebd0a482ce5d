//! One or more render tests per page: content, status codes, read-only, Redis down.

use axum::http::StatusCode;

use crate::support::{console, failed, queued, render, unreachable_console, Job};

#[tokio::test]
async fn overview_shows_totals_queues_and_the_live_island() {
    let c = console(false).await;
    queued(&c, Job::new("q1", "default", "queued")).await;
    queued(&c, Job::new("q2", "default", "queued")).await;
    failed(
        &c,
        Job::new("f1", "high", "failed"),
        "Traceback...\nValueError: boom",
    )
    .await;
    let r = render(c, "/").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("<leptos-island"), "overview is an island");
    assert!(r.html.contains(r#"data-testid="queue-row-default""#));
    assert!(r.html.contains(r#"data-testid="queue-row-high""#));
    assert!(r.html.contains(r#"href="/queues/high?list=failed""#));
    assert!(r.html.contains(r#"id="live-toggle""#) && r.html.contains(r#"data-live="on""#));
    assert!(
        r.html.contains(r#"data-hydrated="false""#),
        "set to true only by the island in the browser"
    );
    assert!(
        r.html.contains(r#"data-testid="suspend""#),
        "suspend switch for writable consoles"
    );
}

#[tokio::test]
async fn queue_page_has_tabs_rows_and_actions_for_the_list() {
    let c = console(false).await;
    queued(&c, Job::new("q1", "default", "queued")).await;
    failed(
        &c,
        Job::new("f1", "default", "failed"),
        "Traceback\nKeyError: 'x'",
    )
    .await;
    let r = render(c.clone(), "/queues/default").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains(r#"data-testid="tab-failed""#));
    assert!(r.html.contains(r#"data-testid="job-row-q1""#));
    assert!(r.html.contains(r#"data-testid="cancel-q1""#));
    assert!(r.html.contains(r#"data-testid="select-q1""#));
    assert!(
        !r.html.contains(r#"data-testid="requeue-q1""#),
        "queued jobs can't be requeued"
    );
    assert!(r.html.contains(r#"action="/ui/cancel""#));

    let r = render(c.clone(), "/queues/default?list=failed&size=10").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.contains(r#"data-testid="requeue-f1""#));
    assert!(r.html.contains("KeyError"));

    let r = render(c, "/queues/default?list=failed&confirm=requeue-failed").await;
    assert!(
        r.html.contains("Requeue 1 failed jobs of default?"),
        "{}",
        r.html
    );
    assert!(r.html.contains(r#"name="expected" value="1""#));
}

#[tokio::test]
async fn unknown_queue_is_a_404_page() {
    let c = console(false).await;
    let r = render(c, "/queues/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.html.contains("No such queue"));
}

#[tokio::test]
async fn bad_list_page_or_size_is_a_400_page() {
    let c = console(false).await;
    queued(&c, Job::new("q1", "default", "queued")).await;
    for path in [
        "/queues/default?page=0",
        "/queues/default?page=abc",
        "/queues/default?size=7",
        "/queues/default?list=bogus",
        "/failed?page=-1",
        "/audit?size=1000",
    ] {
        let r = render(c.clone(), path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(r.html.contains(r#"data-testid="bad-request""#), "{path}");
    }
}

#[tokio::test]
async fn job_page_shows_call_traceback_and_actions() {
    let c = console(false).await;
    failed(
        &c,
        Job::new("f1", "default", "failed"),
        "Traceback (most recent call last):\nValueError: boom",
    )
    .await;
    let r = render(c.clone(), "/jobs/f1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("tasks.add"));
    assert!(r.html.contains(r#"data-testid="job-args""#));
    assert!(r.html.contains("ValueError: boom"));
    assert!(r.html.contains(r#"data-testid="requeue-f1""#));
    assert!(r.html.contains(r#"href="/queues/default""#));

    let r = render(c.clone(), "/jobs/does-not-exist").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.html.contains("No such job"));

    let r = render(c, "/jobs/bad%20id").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn failed_page_lists_across_queues_with_counts_in_confirmations() {
    let c = console(false).await;
    failed(
        &c,
        Job::new("f1", "default", "failed"),
        "Traceback\nValueError: one",
    )
    .await;
    failed(
        &c,
        Job::new("f2", "other", "failed"),
        "Traceback\nTypeError: two",
    )
    .await;
    let r = render(c.clone(), "/failed").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(
        r.html.contains(r#"data-testid="job-row-f1""#)
            && r.html.contains(r#"data-testid="job-row-f2""#)
    );
    assert!(r.html.contains("ValueError: one") && r.html.contains("TypeError: two"));
    assert!(r.html.contains("Requeue all 2 failed jobs"));

    let r = render(c.clone(), "/failed?confirm=requeue-all").await;
    assert!(r.html.contains("Requeue 2 failed jobs across all queues?"));
    assert!(r.html.contains(r#"action="/ui/requeue-all""#));
    assert!(r.html.contains(r#"name="expected" value="2""#));

    let r = render(c, "/failed?confirm=requeue-queue&queue=other").await;
    assert!(r.html.contains("Requeue 1 failed jobs of other?"));
    assert!(r.html.contains(r#"name="queue" value="other""#));
}

#[tokio::test]
async fn workers_and_audit_pages_render_empty_states() {
    let c = console(false).await;
    let r = render(c.clone(), "/workers").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("No workers registered."));
    let r = render(c, "/audit").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("No actions recorded yet."));
}

#[tokio::test]
async fn read_only_console_hides_every_action() {
    let c = console(true).await;
    queued(&c, Job::new("q1", "default", "queued")).await;
    failed(
        &c,
        Job::new("f1", "default", "failed"),
        "Traceback\nValueError: x",
    )
    .await;
    for path in [
        "/",
        "/queues/default",
        "/queues/default?list=failed",
        "/failed",
        "/jobs/f1",
    ] {
        let r = render(c.clone(), path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.html.contains(r#"data-testid="read-only""#), "{path}");
        assert!(
            !r.html.contains("method=\"post\""),
            "{path} must have no action forms"
        );
    }
}

#[tokio::test]
async fn unknown_path_is_a_404_page() {
    let c = console(false).await;
    let r = render(c, "/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.html.contains("Page not found"));
}

#[tokio::test]
async fn redis_unreachable_is_an_explicit_state_not_a_500() {
    let c = unreachable_console().await;
    for path in [
        "/",
        "/queues/default",
        "/failed",
        "/workers",
        "/audit",
        "/jobs/abc",
    ] {
        let r = render(c.clone(), path).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(
            r.html.contains(r#"data-testid="redis-unreachable""#),
            "{path}: {}",
            r.html
        );
    }
}

#[tokio::test]
async fn pages_carry_no_inline_script_style_or_handlers() {
    let c = console(false).await;
    queued(&c, Job::new("q1", "default", "queued")).await;
    let html = leptos::prelude::Owner::new().with(|| {
        use leptos::prelude::*;
        leptos::prelude::provide_context(c.clone());
        leptos::prelude::provide_context(leptos_router::location::RequestUrl::new("/no/such/page"));
        app::shell(
            leptos::config::LeptosOptions::builder()
                .output_name("taskmill")
                .build(),
        )
        .to_html()
    });
    // One external module script (its bundle URLs as data attributes), nothing inline.
    assert!(
        html.contains(
            r#"<script type="module" src="/boot.js" data-taskmill-js="/pkg/taskmill.js" data-taskmill-wasm="/pkg/taskmill.wasm"></script>"#
        ),
        "{html}"
    );
    assert!(html.contains(r#"href="/pkg/taskmill.css""#));
    for path in [
        "/",
        "/queues/default",
        "/failed",
        "/jobs/q1",
        "/workers",
        "/audit",
        "/nope",
    ] {
        let r = render(c.clone(), path).await;
        assert_eq!(
            r.appended,
            app::APPENDED_DATA_SCRIPTS,
            "{path}: the appended scripts are constant"
        );
        for bad in ["<script", " style=", " onclick=", " onerror=", " onsubmit="] {
            assert!(!r.html.contains(bad), "{path} contains {bad}");
        }
    }
}
