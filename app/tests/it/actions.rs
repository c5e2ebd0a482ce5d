//! Server-function bodies as a no-JS form post sees them: refusals, validation, redirects with
//! flash messages, and audit records.

use axum::http::StatusCode;

use app::actions::{jobs::requeue_jobs, queues::requeue_all, workers::scale_workers};

use crate::support::{call, console, failed, post, Job};

#[tokio::test]
async fn read_only_console_refuses_with_a_flash_or_403() {
    let c = console(true).await;
    let (out, location, status) = post(c.clone(), Some("alice"), || {
        requeue_jobs(vec!["abc".into()], "/failed?page=2".into())
    })
    .await;
    assert!(out.is_err());
    assert_eq!(
        status,
        StatusCode::FOUND,
        "a form post goes back with a flash"
    );
    let location = location.unwrap();
    assert!(location.starts_with("/failed?page=2&err="), "{location}");
    assert!(location.contains("read-only"), "{location}");

    let (out, _, status) = call(c, None, "application/json", || {
        requeue_jobs(vec!["abc".into()], "/failed".into())
    })
    .await;
    assert!(out.is_err());
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a script gets the real status"
    );
}

#[tokio::test]
async fn invalid_input_is_a_400_with_a_clear_message() {
    let c = console(false).await;
    let (out, location, status) = post(c.clone(), None, || {
        requeue_jobs(vec!["../etc".into()], "/failed".into())
    })
    .await;
    assert!(out.is_err());
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.unwrap().contains("invalid%20job%20id"));

    let (out, location, status) =
        post(c.clone(), None, || requeue_jobs(vec![], "/failed".into())).await;
    assert!(out.is_err());
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.unwrap().contains("No%20jobs%20selected"));

    let (out, _, status) = call(c, None, "application/json", || {
        scale_workers("w1".into(), "lots".into(), "/workers".into())
    })
    .await;
    assert!(out.is_err());
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn redirects_never_leave_the_console() {
    let c = console(true).await;
    let (_, location, _) = post(c, None, || {
        requeue_jobs(vec!["a".into()], "https://evil.example/x".into())
    })
    .await;
    assert!(location.unwrap().starts_with("/?err="));
}

#[tokio::test]
async fn requeue_moves_a_failed_job_and_writes_an_audit_record() {
    let c = console(false).await;
    failed(
        &c,
        Job::new("f1", "default", "failed"),
        "Traceback\nValueError: x",
    )
    .await;
    let (out, location, _) = post(c.clone(), Some("alice"), || {
        requeue_jobs(vec!["f1".into()], "/failed".into())
    })
    .await;
    out.expect("requeue succeeds");
    assert_eq!(location.as_deref(), Some("/failed?ok=Requeued%201%20job."));
    let audit = engine::audit::page(&c.store, 0, 10).await.unwrap();
    let entry = &audit.items[0];
    assert_eq!(
        (
            entry.who.as_str(),
            entry.action.as_str(),
            entry.target.as_str(),
            entry.count
        ),
        ("alice", "requeue", "f1", 1)
    );
}

#[tokio::test]
async fn bulk_requeue_refuses_when_the_confirmed_count_is_stale() {
    let c = console(false).await;
    failed(
        &c,
        Job::new("f1", "default", "failed"),
        "Traceback\nValueError: x",
    )
    .await;
    failed(
        &c,
        Job::new("f2", "default", "failed"),
        "Traceback\nValueError: y",
    )
    .await;
    let (out, location, status) = post(c.clone(), None, || {
        requeue_all("1".into(), "/failed?confirm=requeue-all".into())
    })
    .await;
    assert!(out.is_err());
    assert_eq!(status, StatusCode::FOUND);
    let location = location.unwrap();
    assert!(
        location.starts_with("/failed?err=") && location.contains("from%201%20to%202"),
        "{location}"
    );

    let (out, location, _) = post(c, None, || requeue_all("2".into(), "/failed".into())).await;
    out.expect("requeue-all with the right count succeeds");
    assert_eq!(
        location.as_deref(),
        Some("/failed?ok=Requeued%202%20failed%20jobs.")
    );
}
