//! History over HTTP: `/api/v1/stats/*` answers the jobs a Taskmill worker ran, bad query values
//! are 400 `{code, message}`, and `/metrics` carries the history families (parsed line by line).

use std::collections::HashMap;

use axum::http::StatusCode;
use engine::enqueue::NewJob;

use crate::support::*;

#[tokio::test]
async fn series_and_functions_count_the_jobs_run() {
    let c = ctx().await;
    for _ in 0..3 {
        enqueue(&c.store, "hist", "taskmill.echo").await;
    }
    failed_job(&c.store, "hist").await;

    let r = send(
        &c.app,
        get("/api/v1/stats/series?metric=finished&queue=hist"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["metric"], "finished");
    assert_eq!(v["queue"], "hist");
    assert_eq!(v["range"], "1h");
    assert_eq!(v["step_s"], 60);
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 60);
    let ts: Vec<i64> = points.iter().map(|p| p[0].as_i64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[1] - w[0] == 60), "oldest first");
    let sum: f64 = points.iter().map(|p| p[1].as_f64().unwrap()).sum();
    assert_eq!(sum, 3.0);

    let r = send(&c.app, get("/api/v1/stats/series?metric=failed&range=7d")).await;
    let v = r.json();
    assert_eq!(
        (v["queue"].is_null(), v["step_s"].as_u64()),
        (true, Some(3600))
    );
    assert_eq!(v["points"].as_array().unwrap().len(), 168);
    let sum: f64 = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .sum();
    assert_eq!(sum, 1.0);

    // A gauge never sampled is null.
    let r = send(&c.app, get("/api/v1/stats/series?metric=depth&range=24h")).await;
    let v = r.json();
    assert_eq!(v["points"].as_array().unwrap().len(), 1440);
    assert!(v["points"][0][1].is_null());

    let r = send(&c.app, get("/api/v1/stats/functions?range=30d")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["function"], "taskmill.echo");
    assert_eq!(rows[0]["count"], 3);
    assert_eq!(rows[0]["failed"], 0);
    assert_eq!(rows[1]["function"], "taskmill.fail");
    assert_eq!(
        (rows[1]["count"].as_u64(), rows[1]["failed"].as_u64()),
        (Some(1), Some(1))
    );
    for k in ["p50_s", "p95_s", "p99_s", "total_s"] {
        assert!(rows[0][k].as_f64().is_some(), "{k}");
    }
}

#[tokio::test]
async fn bad_query_values_are_400() {
    let c = ctx().await;
    for uri in [
        "/api/v1/stats/series",
        "/api/v1/stats/series?metric=nope",
        "/api/v1/stats/series?metric=finished&range=2h",
        "/api/v1/stats/series?metric=finished&queue=bad%20name",
        "/api/v1/stats/functions?range=1y",
    ] {
        let r = send(&c.app, get(uri)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.body);
        assert_eq!(r.code(), "bad_request", "{uri}");
        assert!(r.json()["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// `name{labels}` → value for every sample line; every line must parse.
fn samples(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for l in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = l.strip_prefix("# ") {
            assert!(
                rest.starts_with("HELP ") || rest.starts_with("TYPE "),
                "{l}"
            );
            continue;
        }
        let (k, v) = l.rsplit_once(' ').expect("sample line");
        let v: f64 = match v {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value in {l}")),
        };
        out.insert(k.to_string(), v);
    }
    out
}

#[tokio::test]
async fn metrics_have_the_history_families() {
    let c = ctx().await;
    for _ in 0..2 {
        enqueue(&c.store, "mq", "taskmill.echo").await;
    }
    let j = NewJob::new("mq", "taskmill.sleep").args(vec![serde_json::json!(0.06)]);
    engine::enqueue::enqueue(&c.store, j).await.unwrap();
    failed_job(&c.store, "mq").await;

    let r = send(&c.app, get("/metrics")).await;
    assert_eq!(r.status, StatusCode::OK);
    let m = samples(&r.body);
    for (family, kind) in [
        ("taskmill_jobs_finished_total", "counter"),
        ("taskmill_jobs_failed_total", "counter"),
        ("taskmill_job_duration_seconds", "histogram"),
    ] {
        assert!(
            r.body.contains(&format!("# TYPE {family} {kind}\n")),
            "{family}"
        );
        assert!(r.body.contains(&format!("# HELP {family} ")), "{family}");
    }
    assert_eq!(m[r#"taskmill_jobs_finished_total{queue="mq"}"#], 3.0);
    assert_eq!(m[r#"taskmill_jobs_failed_total{queue="mq"}"#], 1.0);
    let l = r#"queue="mq",function="taskmill.sleep""#;
    assert_eq!(
        m[&format!("taskmill_job_duration_seconds_count{{{l}}}")],
        1.0
    );
    assert_eq!(
        m[&format!("taskmill_job_duration_seconds_bucket{{{l},le=\"0.05\"}}")],
        0.0
    );
    assert_eq!(
        m[&format!("taskmill_job_duration_seconds_bucket{{{l},le=\"0.1\"}}")],
        1.0
    );
    assert_eq!(
        m[&format!("taskmill_job_duration_seconds_bucket{{{l},le=\"+Inf\"}}")],
        1.0
    );
    assert!(m[&format!("taskmill_job_duration_seconds_sum{{{l}}}")] >= 0.06);
    let l = r#"queue="mq",function="taskmill.echo""#;
    assert_eq!(
        m[&format!("taskmill_job_duration_seconds_count{{{l}}}")],
        2.0
    );
}
