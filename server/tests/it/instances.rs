//! Several Redis instances in one console (`--redis NAME=URL`): every route scoped by
//! `/i/NAME`, `/metrics` labelled by instance, and one instance down never breaks the others.
//! Two real redis-servers (the shared one and one of this test's own) and a closed port.

use std::sync::Arc;

use app::state::Console;
use axum::http::StatusCode;
use engine::Store;
use server::serve::ServeConfig;

use crate::redis::{free_port, fresh_url, start_redis};
use crate::support::{enqueue, get, llen, post, send};

#[tokio::test]
async fn every_route_is_scoped_and_a_dead_instance_breaks_nothing() {
    let own = start_redis();
    let a = Store::connect(&fresh_url()).await.unwrap();
    let b = Store::connect(&own.url(0)).await.unwrap();
    let c = Store::connect_lazy(&format!("redis://127.0.0.1:{}", free_port())).unwrap();
    for _ in 0..2 {
        enqueue(&a, "qa", "m.f").await;
    }
    let mut in_b = Vec::new();
    for _ in 0..3 {
        in_b.push(enqueue(&b, "qb", "m.f").await);
    }
    let fleet: Vec<(String, Arc<Console>)> = [("a", a.clone()), ("b", b.clone()), ("c", c)]
        .into_iter()
        .map(|(n, s)| (n.to_string(), Arc::new(Console::new(s, false))))
        .collect();
    let app = server::instances::router(&fleet, ServeConfig::default());

    // The API: unscoped is the default instance (a), /i/b/ is b, /i/c/ is down (503 JSON).
    let qs = send(&app, get("/api/v1/queues")).await.json();
    assert_eq!(qs.as_array().unwrap().len(), 1);
    assert_eq!(qs[0]["name"], "qa");
    assert_eq!(qs[0]["queued"], 2);
    let qs = send(&app, get("/i/b/api/v1/queues?x=1")).await.json();
    assert_eq!(
        (qs[0]["name"].as_str(), qs[0]["queued"].as_u64()),
        (Some("qb"), Some(3))
    );
    let down = send(&app, get("/i/c/api/v1/queues")).await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.body
    );
    assert!(!down.code().is_empty());
    let unknown = send(&app, get("/i/nope/api/v1/queues")).await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    // `/i/a/` is the default instance too.
    assert_eq!(
        send(&app, get("/i/a/api/v1/queues")).await.json()[0]["name"],
        "qa"
    );

    // An action through /i/b/ acts on b only; the same id is unknown to a.
    let r = send(
        &app,
        post(&format!("/i/b/api/v1/jobs/{}/cancel", in_b[0]), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(llen(&b, "rq:queue:qb").await, 2);
    let r = send(&app, post(&format!("/api/v1/jobs/{}/cancel", in_b[1]), "")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(
        (llen(&b, "rq:queue:qb").await, llen(&a, "rq:queue:qa").await),
        (2, 2)
    );

    // Pages: each instance's own data, the switcher, and the overview across instances.
    let page = send(&app, get("/i/b/queues/qb")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"data-testid="current-instance">b<"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(&in_b[1]), "b's jobs listed");
    // Links on b's pages stay on b; the switcher leads to the same page on a and c.
    assert!(
        page.body
            .contains(&format!(r#"href="/i/b/jobs/{}""#, in_b[1])),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"href="/jobs/"#) && !page.body.contains(r#"action="/ui/"#));
    assert_eq!(
        page.body.matches(r#"href="/queues/qb""#).count(),
        1,
        "only the switcher's link to a"
    );
    assert!(
        page.body.contains(r#"href="/i/c/queues/qb""#),
        "{}",
        page.body
    );
    let other = send(&app, get("/queues/qb")).await;
    assert!(
        !other.body.contains(&in_b[1]),
        "a's console does not show b's jobs"
    );
    let all = send(&app, get("/i/c/instances")).await;
    assert_eq!(all.status, StatusCode::OK, "one instance down: still 200");
    assert_eq!(all.body.matches(r#"data-testid="instance-row""#).count(), 3);
    assert_eq!(
        all.body.matches(r#"data-testid="instance-down""#).count(),
        1
    );
    assert!(all.body.contains(r#"data-instance="c""#));
    assert!(all.body.contains(r#"<a href="/i/b/""#), "{}", all.body);
    assert!(
        all.body
            .contains(r#"data-testid="instance-queued" class="num">2<"#),
        "{}",
        all.body
    );

    let list = send(&app, get("/i/b/api/v1/instances")).await.json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(
        (list[0]["name"].as_str(), list[0]["default"].as_bool()),
        (Some("a"), Some(true))
    );
    assert_eq!(
        (list[1]["queued"].as_u64(), list[1]["reachable"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(list[2]["reachable"], false);
    assert!(list[2]["error"].as_str().is_some_and(|e| !e.is_empty()));

    // /metrics: every instance, labelled; c reports down; /i/b/metrics is b only.
    let m = send(&app, get("/metrics")).await.body;
    assert!(
        m.contains(r#"rq_jobs{instance="a",queue="qa",status="queued"} 2"#),
        "{m}"
    );
    assert!(
        m.contains(r#"rq_jobs{instance="b",queue="qb",status="queued"} 2"#),
        "{m}"
    );
    assert!(m.contains(r#"taskmill_redis_up{instance="c"} 0"#), "{m}");
    assert_eq!(
        m.matches("# TYPE rq_jobs ").count(),
        1,
        "one family header: {m}"
    );
    let mb = send(&app, get("/i/b/metrics")).await.body;
    assert!(
        mb.contains(r#"instance="b""#) && !mb.contains(r#"instance="a""#),
        "{mb}"
    );
}

/// Under `--url-prefix`: the prefix comes first, then `/i/NAME`, in requests and in links.
#[tokio::test]
async fn instances_under_a_prefix() {
    let own = start_redis();
    let a = Store::connect(&fresh_url()).await.unwrap();
    let b = Store::connect(&own.url(1)).await.unwrap();
    let id = enqueue(&b, "qb", "m.f").await;
    let fleet: Vec<(String, Arc<Console>)> = [("a", a), ("b", b)]
        .into_iter()
        .map(|(n, s)| (n.to_string(), Arc::new(Console::new(s, false))))
        .collect();
    let cfg = ServeConfig {
        base: app::url::Base::parse("/taskmill").unwrap(),
        ..ServeConfig::default()
    };
    let app = server::instances::router(&fleet, cfg);
    let qs = send(&app, get("/taskmill/i/b/api/v1/queues")).await.json();
    assert_eq!(qs[0]["name"], "qb");
    assert_eq!(
        send(&app, get("/i/b/api/v1/queues")).await.status,
        StatusCode::NOT_FOUND
    );
    let page = send(&app, get("/taskmill/i/b/queues/qb")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!(r#"href="/taskmill/i/b/jobs/{id}""#)),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"href="/taskmill/queues/qb""#),
        "switcher to a: {}",
        page.body
    );
    assert!(!page.body.contains("/taskmill/i/b/i/"), "{}", page.body);
    let all = send(&app, get("/taskmill/instances")).await.body;
    assert!(all.contains(r#"<a href="/taskmill/i/b/""#), "{all}");
    let m = send(&app, get("/taskmill/metrics")).await.body;
    assert!(
        m.contains(r#"rq_jobs{instance="b",queue="qb",status="queued"} 1"#),
        "{m}"
    );
}
