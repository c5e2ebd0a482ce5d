//! Search over HTTP: the API page shape (`items`, `cursor`, `scanned`, `exact`), cursor
//! continuation, bad queries and cursors as 400 `{code, message}`, the bulk actions with
//! `?dry_run=1` and `{"expected": n}` (409 and nothing changed on a mismatch), and the console:
//! an id in the search box answers 302 to the job page, a text search renders results, a bad
//! query renders its reason with a 400, and the confirm-then-post flow without JavaScript.

use axum::body::Body;
use axum::http::{header, StatusCode};
use engine::enqueue::NewJob;
use engine::keys;
use serde_json::json;

use crate::support::*;

async fn job(store: &engine::Store, queue: &str, arg: &str) -> String {
    engine::enqueue::enqueue(
        store,
        NewJob::new(queue, "shop.send").args(vec![json!(arg)]),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn search_api_pages_with_a_cursor_and_refuses_bad_input() {
    let c = ctx().await;
    let mut want = Vec::new();
    for i in 0..12u32 {
        let id = job(
            &c.store,
            "sa",
            if i.is_multiple_of(2) {
                "Pelican 7"
            } else {
                "dove"
            },
        )
        .await;
        if i.is_multiple_of(2) {
            want.push(id);
        }
    }
    let mut got = Vec::new();
    let mut uri = "/api/v1/search?q=pelican&limit=4".to_string();
    loop {
        let r = send(&c.app, get(&uri)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = r.json();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["cursor", "items", "scanned"], "{v}");
        assert!(v["items"].as_array().unwrap().len() <= 4);
        for it in v["items"].as_array().unwrap() {
            assert_eq!(it["func_name"], "shop.send");
            got.push(it["id"].as_str().unwrap().to_string());
        }
        match v["cursor"].as_str() {
            Some(cur) => uri = format!("/api/v1/search?q=pelican&limit=4&cursor={cur}"),
            None => {
                assert_eq!(v["scanned"], 12);
                break;
            }
        }
    }
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // An exact id: the item and the `exact` hint.
    let r = send(&c.app, get(&format!("/api/v1/search?q={}", want[0]))).await;
    assert_eq!(r.json()["exact"], want[0].as_str());
    assert_eq!(r.json()["items"][0]["id"], want[0].as_str());

    let long = "a".repeat(600);
    for bad in [
        "/api/v1/search",
        "/api/v1/search?q=",
        "/api/v1/search?q=%22open",
        "/api/v1/search?q=status:nope",
        "/api/v1/search?q=x&limit=0",
        "/api/v1/search?q=x&limit=1000",
        "/api/v1/search?q=x&limit=-1",
        "/api/v1/search?q=x&cursor=eyJ0YW1wZXJlZCI6MX0",
        "/api/v1/search?q=x&cursor=%FF%FE",
        "/api/v1/search?q=a%00b",
        &format!("/api/v1/search?q={long}"),
    ] {
        let r = send(&c.app, get(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert_eq!(r.code(), "bad_request", "{bad}");
        assert!(!r.json()["message"].as_str().unwrap().is_empty());
    }
    // Invalid UTF-8 and wildcards: a bounded search, not an error.
    for odd in ["/api/v1/search?q=%FF%FE", "/api/v1/search?q=*%3F*%25"] {
        let r = send(&c.app, get(odd)).await;
        assert_eq!(r.status, StatusCode::OK, "{odd}: {}", r.body);
    }
}

#[tokio::test]
async fn search_bulk_api_confirms_the_exact_count() {
    let c = ctx().await;
    let hits: Vec<String> = [
        job(&c.store, "sb", "gannet").await,
        job(&c.store, "sb", "gannet").await,
    ]
    .into();
    let other = job(&c.store, "sb", "heron").await;

    let r = send(&c.app, post("/api/v1/search/cancel?q=gannet&dry_run=1", "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["count"], 2);

    let r = send(
        &c.app,
        post("/api/v1/search/cancel?q=gannet", r#"{"expected": 3}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.code(), "conflict");
    assert_eq!(
        llen(&c.store, &keys::queue("sb")).await,
        3,
        "nothing changed"
    );

    let r = send(
        &c.app,
        post("/api/v1/search/cancel?q=gannet", r#"{"expected": 2}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["count"], 2);
    assert_eq!(zcard(&c.store, &keys::canceled("sb")).await, 2);
    let queued: Vec<String> = redis(
        &c.store,
        redis::cmd("LRANGE").arg(keys::queue("sb")).arg(0).arg(-1),
    )
    .await;
    assert_eq!(queued, [other.as_str()]);
    assert_eq!(last_audit(&c.store).await.action, "cancel-search");

    let r = send(
        &c.app,
        post("/api/v1/search/delete?q=gannet", r#"{"expected": 2}"#),
    )
    .await;
    assert_eq!(r.json()["count"], 2, "{}", r.body);
    for id in &hits {
        assert!(!exists(&c.store, &keys::job(id)).await);
    }
    for bad in [
        "/api/v1/search/requeue",
        "/api/v1/search/requeue?q=%22x",
        "/api/v1/search/requeue?q=x&dry_run=2",
    ] {
        let r = send(&c.app, post(bad, "")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
}

#[tokio::test]
async fn console_search_redirects_ids_and_renders_results() {
    let c = ctx().await;
    let id = job(&c.store, "sc", "Cormorant <b>x</b>").await;
    let _other = job(&c.store, "sc", "grebe").await;

    let r = send(&c.app, get(&format!("/search?q={id}"))).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(r.headers[header::LOCATION], format!("/jobs/{id}").as_str());

    let r = send(&c.app, get("/search?q=cormorant")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(&format!("/jobs/{id}")), "{}", r.body);
    assert!(r.body.contains("data-testid=\"search-scanned\""));
    assert!(
        r.body.contains("data-testid=\"search-box\""),
        "the header box"
    );
    assert!(!r.body.contains("<b>x</b>"), "job data is escaped");

    let r = send(&c.app, get("/search?q=nothing-matches-this")).await;
    assert!(r.body.contains("data-testid=\"search-empty\""));

    let r = send(&c.app, get("/search?q=%22open")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("a quote is not closed"), "{}", r.body);

    // Confirm, then post without JavaScript: the count is on the form.
    let r = send(&c.app, get("/search?q=cormorant&confirm=delete-search")).await;
    assert!(
        r.body.contains("name=\"expected\" value=\"1\""),
        "{}",
        r.body
    );
    let form = "q=cormorant&expected=5&return_to=%2Fsearch%3Fq%3Dcormorant";
    let r = send(
        &c.app,
        form_post("/ui/delete-search")
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    assert!(
        r.status.is_redirection() || r.status == StatusCode::CONFLICT,
        "{}",
        r.status
    );
    assert!(
        exists(&c.store, &keys::job(&id)).await,
        "a wrong count changes nothing"
    );
    let form = "q=cormorant&expected=1&return_to=%2Fsearch%3Fq%3Dcormorant";
    let r = send(
        &c.app,
        form_post("/ui/delete-search")
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    assert!(r.status.is_redirection(), "{}", r.status);
    assert!(!exists(&c.store, &keys::job(&id)).await);
}
