//! `/metrics` values equal the true counts of a known Redis state.

use std::collections::HashMap;

use axum::http::{header, StatusCode};
use engine::enqueue::NewJob;
use engine::keys;

use crate::support::*;

/// `name{labels}` → value, for every sample line.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').expect("sample line");
            (k.to_string(), v.parse().expect("value"))
        })
        .collect()
}

#[tokio::test]
async fn metrics_match_redis() {
    let c = ctx().await;
    for _ in 0..3 {
        enqueue(&c.store, "alpha", "taskmill.echo").await;
    }
    let mut later = NewJob::new("beta", "taskmill.echo");
    later.schedule_at = Some(engine::time::now() + 600.0);
    engine::enqueue::enqueue(&c.store, later).await.unwrap();
    failed_job(&c.store, "gamma").await;
    enqueue(&c.store, r#"we"ird\name"#, "taskmill.echo").await;
    let now = engine::time::format_rq(engine::time::now());
    let _: () = redis(
        &c.store,
        redis::cmd("HSET").arg(keys::worker("w1")).arg(&[
            ("state", "busy"),
            ("queues", "alpha,beta"),
            ("successful_job_count", "7"),
            ("failed_job_count", "2"),
            ("total_working_time", "12.5"),
            ("birth", now.as_str()),
            ("last_heartbeat", now.as_str()),
            ("current_job", "some-job"),
        ]),
    )
    .await;
    let _: () = redis(
        &c.store,
        redis::cmd("SADD").arg("rq:workers").arg(keys::worker("w1")),
    )
    .await;

    let r = send(&c.app, get("/metrics")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let m = samples(&r.body);

    for q in ["alpha", "beta", "gamma"] {
        let truth = [
            ("queued", llen(&c.store, &keys::queue(q)).await),
            ("scheduled", zcard(&c.store, &keys::scheduled(q)).await),
            ("failed", zcard(&c.store, &keys::failed(q)).await),
            ("finished", zcard(&c.store, &keys::finished(q)).await),
            ("started", zcard(&c.store, &keys::started(q)).await),
            ("deferred", zcard(&c.store, &keys::deferred(q)).await),
            ("canceled", zcard(&c.store, &keys::canceled(q)).await),
        ];
        for (status, n) in truth {
            let key = format!(r#"rq_jobs{{queue="{q}",status="{status}"}}"#);
            assert_eq!(m.get(&key), Some(&(n as f64)), "{key}\n{}", r.body);
        }
    }
    assert_eq!(m[r#"rq_jobs{queue="alpha",status="queued"}"#], 3.0);
    assert_eq!(m[r#"rq_jobs{queue="beta",status="scheduled"}"#], 1.0);
    assert_eq!(m[r#"rq_jobs{queue="gamma",status="failed"}"#], 1.0);
    assert_eq!(
        m[r#"rq_jobs{queue="we\"ird\\name",status="queued"}"#], 1.0,
        "escaped label"
    );

    let w = r#"{name="w1",queues="alpha,beta"}"#;
    assert_eq!(
        m[r#"rq_workers{name="w1",queues="alpha,beta",state="busy"}"#],
        1.0
    );
    assert_eq!(m[&format!("rq_workers_success_total{w}")], 7.0);
    assert_eq!(m[&format!("rq_workers_failed_total{w}")], 2.0);
    assert_eq!(m[&format!("rq_workers_working_time_total{w}")], 12.5);

    let age = m[r#"taskmill_queue_oldest_job_age_seconds{queue="alpha"}"#];
    assert!((0.0..60.0).contains(&age), "age {age}");
    assert_eq!(
        m[r#"taskmill_queue_oldest_job_age_seconds{queue="beta"}"#],
        0.0
    );
    assert_eq!(m["taskmill_redis_up"], 1.0);
    assert!(m.contains_key("taskmill_scrape_duration_seconds"));
    for family in [
        "rq_jobs",
        "rq_workers",
        "rq_workers_success_total",
        "taskmill_redis_up",
    ] {
        assert!(r.body.contains(&format!("# TYPE {family} ")), "{family}");
        assert!(r.body.contains(&format!("# HELP {family} ")), "{family}");
    }
}

#[tokio::test]
async fn metrics_when_redis_is_down() {
    let c = ctx_redis_down();
    let r = send(&c.app, get("/metrics")).await;
    assert_eq!(r.status, StatusCode::OK);
    let m = samples(&r.body);
    assert_eq!(m["taskmill_redis_up"], 0.0);
    assert!(!r.body.contains("rq_jobs{"));
}

#[tokio::test]
async fn actions_refresh_the_cached_snapshot() {
    // Scrapes share a snapshot for up to 1 s; an action through the API drops it, so the next
    // scrape shows the action's effect at once.
    let c = ctx().await;
    enqueue(&c.store, "alpha", "taskmill.echo").await;
    let key = r#"rq_jobs{queue="alpha",status="queued"}"#;
    assert_eq!(samples(&send(&c.app, get("/metrics")).await.body)[key], 1.0);
    let r = send(
        &c.app,
        post(
            "/api/v1/queues/alpha/enqueue",
            r#"{"func": "taskmill.echo"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(samples(&send(&c.app, get("/metrics")).await.body)[key], 2.0);
}
