//! The failure-group pages and their actions: `/failed/groups` (largest first, as of), a
//! group's page (its jobs, paginated; confirm panels with the exact count), the no-JS form posts
//! for requeue-group / delete-group, hostile job data escaped, and a read-only console.

use axum::http::StatusCode;

use app::actions::groups::{delete_group, requeue_group};

use crate::support::{console, failed, post, render, Job};

const SCRIPT: &str = "<script>alert(1)</script>";

fn tb(msg: &str) -> String {
    format!(
        "Traceback (most recent call last):\n  File \"/app/tasks.py\", line 3, in charge\n    x()\n{msg}"
    )
}

async fn fill(c: &app::state::Console) -> String {
    for i in 0..3 {
        failed(
            c,
            Job::new(&format!("a{i}"), "default", "failed"),
            &tb(&format!("ValueError: order {i} missing")),
        )
        .await;
    }
    failed(
        c,
        Job::new("b0", "other", "failed"),
        &tb(&format!("KeyError: {SCRIPT}")),
    )
    .await;
    engine::groups::index::catch_up(&c.store).await.unwrap();
    let g = c.backend.failure_groups().await.unwrap();
    g.items[0].fingerprint.clone()
}

#[tokio::test]
async fn groups_page_and_group_page_render_with_counts_and_confirmations() {
    let c = console(false).await;
    let fp = fill(&c).await;
    let r = render(c.clone(), "/failed/groups").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(
        r.html.contains(&format!(r#"data-testid="group-row-{fp}""#)),
        "{}",
        r.html
    );
    assert!(
        r.html.contains("ValueError: order 0 missing")
            || r.html.contains("ValueError: order 1 missing")
    );
    assert!(r.html.contains(r#"data-testid="groups-as-of""#) && r.html.contains("as of"));
    assert!(r.html.contains(&format!(r#"href="/failed/groups/{fp}""#)));
    // Largest first: the 3-failure group before the KeyError.
    assert!(r.html.find("ValueError").unwrap() < r.html.find("KeyError").unwrap());
    assert!(!r.html.contains(SCRIPT) && r.html.contains("&lt;script&gt;"));

    let r = render(c.clone(), "/failed").await;
    assert!(
        r.html.contains(r#"href="/failed/groups""#),
        "tab to the groups view"
    );

    let r = render(c.clone(), &format!("/failed/groups/{fp}?page=1&size=10")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    for id in ["a0", "a1", "a2"] {
        assert!(r.html.contains(&format!(r#"data-testid="job-row-{id}""#)));
    }
    assert!(!r.html.contains(r#"data-testid="job-row-b0""#));
    assert!(r.html.contains("Requeue all 3") && r.html.contains("Delete all 3"));

    let r = render(
        c.clone(),
        &format!("/failed/groups/{fp}?confirm=requeue-group"),
    )
    .await;
    assert!(
        r.html.contains("Requeue all 3 failed jobs of this group?"),
        "{}",
        r.html
    );
    assert!(r.html.contains(r#"action="/ui/requeue-group""#));
    assert!(r.html.contains(r#"name="expected" value="3""#));
    assert!(r
        .html
        .contains(&format!(r#"name="fingerprint" value="{fp}""#)));
    let r = render(
        c.clone(),
        &format!("/failed/groups/{fp}?confirm=delete-group"),
    )
    .await;
    assert!(r.html.contains(r#"action="/ui/delete-group""#));

    // Pagination: size 10 of 3 is one page; a bad size or confirmation is a 400.
    let r = render(c.clone(), &format!("/failed/groups/{fp}?size=7")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = render(c.clone(), &format!("/failed/groups/{fp}?confirm=nope")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = render(c.clone(), "/failed/groups/0000000000000000").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = render(c.clone(), "/failed/groups/%3Cscript%3E").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.html);
    assert!(!r.html.contains(SCRIPT));
}

#[tokio::test]
async fn group_actions_post_without_js_confirmed_and_audited() {
    let c = console(false).await;
    let fp = fill(&c).await;
    let back = format!("/failed/groups/{fp}");
    let (out, location, status) = post(c.clone(), None, || {
        requeue_group(fp.clone(), "2".into(), back.clone())
    })
    .await;
    assert!(out.is_err());
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location.unwrap().contains("from%202%20to%203"),
        "conflict explains itself"
    );

    let (out, location, _) = post(c.clone(), None, || {
        requeue_group(fp.clone(), "3".into(), "/failed/groups".into())
    })
    .await;
    out.expect("requeue-group with the exact count");
    assert_eq!(
        location.as_deref(),
        Some("/failed/groups?ok=Requeued%203%20failed%20jobs.")
    );
    let audit = c.backend.audit(0, 1).await.unwrap();
    assert_eq!(
        (audit.items[0].action.as_str(), audit.items[0].count),
        ("requeue-group", 3)
    );
    let r = render(c.clone(), &back).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "an emptied group is gone");

    let key_fp = c.backend.failure_groups().await.unwrap().items[0]
        .fingerprint
        .clone();
    let (out, _, _) = post(c.clone(), None, || {
        delete_group(key_fp.clone(), "1".into(), "/failed/groups".into())
    })
    .await;
    out.expect("delete-group");
    assert!(c.backend.job("b0").await.unwrap().is_none());

    let (out, _, status) = post(c.clone(), None, || {
        delete_group("zz".into(), "1".into(), "/failed/groups".into())
    })
    .await;
    assert!(out.is_err());
    assert_eq!(status, StatusCode::FOUND);
}

#[tokio::test]
async fn read_only_console_shows_groups_without_actions() {
    let c = console(true).await;
    let fp = fill(&c).await;
    let r = render(c.clone(), &format!("/failed/groups/{fp}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.html.contains(r#"data-testid="requeue-group""#));
    let r = render(
        c.clone(),
        &format!("/failed/groups/{fp}?confirm=delete-group"),
    )
    .await;
    assert!(!r.html.contains(r#"data-testid="confirm-panel""#));
    let (out, _, _) = post(c.clone(), None, || {
        delete_group(fp.clone(), "3".into(), "/failed/groups".into())
    })
    .await;
    assert!(out.is_err());
}
