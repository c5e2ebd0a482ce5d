//! Cross-queue views (`/scheduled`, `/deferred`, `/canceled` and their `/api/v1` mirrors), the
//! job timeline in `GET /api/v1/jobs/{id}`, and the export routes: formats, attachment headers,
//! CSV formula guard, bad input as 4xx, and a multi-batch export across queues that neither
//! skips nor repeats a row.

use axum::http::{header, StatusCode};
use engine::actions::Action;
use engine::enqueue::{enqueue, NewJob};
use engine::keys;

use crate::support::*;

fn ids(v: &serde_json::Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cross_queue_views_pages_and_api() {
    let c = ctx().await;
    let now = engine::time::now();
    let mut sched = Vec::new();
    for (q, dt) in [("va", 300.0), ("vb", 100.0), ("va", 200.0)] {
        let mut job = NewJob::new(q, "taskmill.echo");
        job.schedule_at = Some(now + dt);
        sched.push(enqueue(&c.store, job).await.unwrap());
    }
    let parent = enqueue(&c.store, NewJob::new("va", "taskmill.echo"))
        .await
        .unwrap();
    let child = enqueue(
        &c.store,
        NewJob::new("vb", "taskmill.echo").depends_on(vec![parent.clone(), "gone-dep".into()]),
    )
    .await
    .unwrap();
    let victim = enqueue(&c.store, NewJob::new("vb", "taskmill.echo"))
        .await
        .unwrap();
    engine::actions::perform(
        &c.store,
        Action::Cancel {
            ids: vec![victim.clone()],
        },
        "t",
    )
    .await
    .unwrap();
    c.console.invalidate().await;

    // Soonest first across both queues.
    let r = send(&c.app, get("/api/v1/scheduled?limit=10")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        ids(&r.json()),
        [sched[1].clone(), sched[2].clone(), sched[0].clone()]
    );
    assert_eq!(r.json()["total"], 3);
    let r = send(&c.app, get("/api/v1/scheduled?offset=1&limit=1")).await;
    assert_eq!(ids(&r.json()), std::slice::from_ref(&sched[2]));

    let r = send(&c.app, get("/api/v1/deferred")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    let row = &v["items"][0];
    assert_eq!(
        (row["id"].as_str(), row["origin"].as_str()),
        (Some(child.as_str()), Some("vb"))
    );
    assert_eq!(row["depends_on_total"], 2, "{v}");
    let mut want = vec![
        serde_json::json!({"id": "gone-dep", "status": null}),
        serde_json::json!({"id": parent, "status": "queued"}),
    ];
    want.sort_by_key(|d| d["id"].as_str().unwrap().to_string());
    assert_eq!(
        row["depends_on"],
        serde_json::Value::Array(want),
        "sorted by id"
    );

    let r = send(&c.app, get("/api/v1/canceled")).await;
    assert_eq!(ids(&r.json()), std::slice::from_ref(&victim));
    let r = send(&c.app, get("/api/v1/canceled?limit=9999")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // The pages: rows, run-now buttons, dependency links with their status.
    let r = send(&c.app, get("/scheduled")).await;
    assert_eq!(r.status, StatusCode::OK);
    let first = r.body.find(&format!("job-row-{}", sched[1])).unwrap();
    let last = r.body.find(&format!("job-row-{}", sched[0])).unwrap();
    assert!(first < last, "soonest first on the page");
    assert!(r
        .body
        .contains(&format!("data-testid=\"enqueue-now-{}\"", sched[0])));
    assert!(r
        .body
        .contains("href=\"/api/v1/export/scheduled?format=csv\""));
    let r = send(&c.app, get("/deferred")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains(&format!("href=\"/jobs/{parent}\"")),
        "{}",
        r.body
    );
    assert!(r.body.contains("status-missing"));
    let r = send(&c.app, get("/canceled")).await;
    assert!(r.body.contains(&format!("job-row-{victim}")));
    assert!(r.body.contains("href=\"/scheduled\""), "nav entry");
}

#[tokio::test]
async fn job_api_and_page_carry_the_timeline() {
    let c = ctx().await;
    let id = failed_job(&c.store, "tl").await;
    let r = send(&c.app, get(&format!("/api/v1/jobs/{id}"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    let kinds: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap_or_else(|| panic!("no timeline in {v}"))
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["created", "enqueued", "started", "failed", "now"],
        "{v}"
    );
    let started = &v["timeline"][2];
    assert!(started["worker"].is_string() && started["duration"].as_f64().is_some());
    assert!(v["timeline"][3]["detail"]
        .as_str()
        .unwrap()
        .contains("boom"));
    assert_eq!(v["timeline"][4]["detail"], "failed");
    let r = send(&c.app, get(&format!("/jobs/{id}"))).await;
    assert!(r.body.contains("data-testid=\"timeline\""));
    assert!(r.body.contains("data-testid=\"timeline-failed\""));
}

#[tokio::test]
async fn exports_stream_every_format_and_refuse_bad_input() {
    let c = ctx().await;
    // Two queues of hand-written failed entries, more than several batches and deeper than a
    // shallow merge; one real failure whose description starts with `=`.
    let n = 2_600u32;
    let mut p = redis::pipe();
    for q in ["xa", "xb"] {
        p.sadd(keys::QUEUES, keys::queue(q));
    }
    for i in 0..n {
        let q = if i % 3 == 0 { "xa" } else { "xb" };
        p.zadd(keys::failed(q), format!("x{i:05}"), 1_700_000_000 + i % 700);
    }
    let _: () = p.query_async(&mut c.store.conn()).await.unwrap();
    let mut job = NewJob::new("xa", "taskmill.fail").args(vec![serde_json::json!("boom")]);
    job.description = Some("=HYPERLINK(\"http://evil\")".into());
    let real = enqueue(&c.store, job).await.unwrap();
    work(&c.store, &["xa"]).await;
    let total = n as usize + 1;

    let r = send(&c.app, get("/api/v1/export/failed?format=csv")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        r.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"taskmill-failed.csv\""
    );
    let lines: Vec<&str> = r.body.trim_end().split("\r\n").collect();
    assert!(lines[0].starts_with("id,queue,status,func_name,description,"));
    assert_eq!(lines.len(), total + 1);
    let mut seen: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        total,
        "no row skipped or repeated across batches"
    );
    let row = lines.iter().find(|l| l.starts_with(&real)).unwrap();
    assert!(
        row.contains(",\"'=HYPERLINK(\"\"http://evil\"\")\","),
        "formula guarded and quoted: {row}"
    );

    let r = send(&c.app, get("/api/v1/export/failed?format=json")).await;
    let v: Vec<serde_json::Value> = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v.len(), total);
    let r = send(
        &c.app,
        get("/api/v1/export/queues/xa?list=failed&format=ndjson"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/x-ndjson");
    let rows: Vec<serde_json::Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), (n as usize).div_ceil(3) + 1);
    let r = send(&c.app, get("/api/v1/export/scheduled")).await;
    assert_eq!(
        (r.status, r.body.lines().count()),
        (StatusCode::OK, 1),
        "header only"
    );

    engine::groups::index::catch_up(&c.store).await.unwrap();
    // The hand-written entries have no hash: they are the "undecodable" group.
    let fp = engine::groups::read::groups(&c.store)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|g| g.fingerprint != "undecodable")
        .unwrap()
        .fingerprint;
    let r = send(
        &c.app,
        get(&format!("/api/v1/export/failed/groups/{fp}?format=json")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(&real));

    for (uri, status) in [
        ("/api/v1/export/failed?format=xml", StatusCode::BAD_REQUEST),
        (
            "/api/v1/export/queues/xa?list=bogus",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/v1/export/queues/nope", StatusCode::NOT_FOUND),
        (
            "/api/v1/export/failed/groups/0123456789abcdef",
            StatusCode::NOT_FOUND,
        ),
        ("/api/v1/export/failed/groups/*", StatusCode::BAD_REQUEST),
    ] {
        let r = send(&c.app, get(uri)).await;
        assert_eq!(r.status, status, "{uri}: {}", r.body);
        assert!(!r.code().is_empty(), "{uri}: {}", r.body);
    }
}
