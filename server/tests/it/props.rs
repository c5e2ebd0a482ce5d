//! Property test: random API paths (ids, pages, unicode, encoded slashes, dot segments, huge
//! numbers) with GET and POST never produce a 5xx while Redis is up.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Method, Request};
use proptest::prelude::*;

use crate::support::*;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn shared() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| {
        runtime().block_on(async {
            let c = ctx().await;
            // Something real to hit as well as garbage.
            enqueue(&c.store, "default", "taskmill.echo").await;
            failed_job(&c.store, "default").await;
            c
        })
    })
}

/// Path segments that have broken routers and decoders before.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,12}",
        Just("default".to_string()),
        Just("..".to_string()),
        Just("%2F".to_string()),
        Just("%2e%2e".to_string()),
        Just("%00".to_string()),
        Just("%FF%FE".to_string()),
        Just("%".to_string()),
        Just("%zz".to_string()),
        Just("a%20b".to_string()),
        "\\PC{1,8}".prop_map(|s| percent(&s)),
        "[a-z]{300}",
    ]
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..1000).prop_map(|n| n.to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999999".to_string()),
        Just(u64::MAX.to_string()),
        Just(i64::MAX.to_string()),
        Just("1e3".to_string()),
        Just("".to_string()),
        Just("%F0%9F%92%A5".to_string()),
    ]
}

fn query() -> impl Strategy<Value = String> {
    (
        number(),
        number(),
        prop_oneof![
            Just("queued"),
            Just("failed"),
            Just("scheduled"),
            Just("bogus"),
            Just("")
        ],
    )
        .prop_map(|(o, l, list)| format!("?offset={o}&limit={l}&list={list}&page={o}"))
}

const SHAPES: &[&str] = &[
    "/api/v1/jobs/{}",
    "/api/v1/jobs/{}/requeue",
    "/api/v1/jobs/{}/cancel",
    "/api/v1/jobs/{}/delete",
    "/api/v1/jobs/{}/enqueue-now",
    "/api/v1/jobs/{}/stop",
    "/api/v1/queues/{}",
    "/api/v1/queues/{}/empty",
    "/api/v1/queues/{}/requeue-failed",
    "/api/v1/queues/{}/enqueue",
    "/api/v1/workers/{}/shutdown",
    "/api/v1/workers/{}/kill-horse",
    "/api/v1/workers/{}/scale",
    "/api/v1/{}",
    "/api/v1/failed",
    "/api/v1/audit",
    "/api/v1/jobs/delete",
    "/healthz",
];

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(r#"{"ids": ["a", "b"]}"#.to_string()),
        Just(r#"{"ids": [1, 2]}"#.to_string()),
        Just(r#"{"slots": 3}"#.to_string()),
        Just(r#"{"func": "taskmill.echo", "args": [1]}"#.to_string()),
        Just(r#"{"func": "", "depends_on": ["x y"]}"#.to_string()),
        "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn api_never_answers_5xx(
        shape in 0..SHAPES.len(),
        seg in segment(),
        q in query(),
        post in any::<bool>(),
        body in body(),
    ) {
        let c = shared();
        let uri = format!("{}{}", SHAPES[shape].replace("{}", &seg), q);
        // Some generated strings are not valid URIs at all: the HTTP layer rejects those
        // before our router, which is fine.
        let Ok(uri) = uri.parse::<axum::http::Uri>() else { return Ok(()) };
        let req = Request::builder()
            .method(if post { Method::POST } else { Method::GET })
            .uri(uri.clone())
            .header(header::HOST, "127.0.0.1:9181")
            .body(Body::from(body))
            .unwrap();
        let r = runtime().block_on(send(&c.app, req));
        prop_assert!(r.status.as_u16() < 500, "{} {} -> {} {}", if post {"POST"} else {"GET"}, uri, r.status, r.body);
        if uri.path().starts_with("/api/") && !r.status.is_success() {
            // Every API error has the JSON shape.
            prop_assert!(!r.code().is_empty(), "{} -> {}", uri, r.body);
        }
    }
}
