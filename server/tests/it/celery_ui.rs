//! The Celery worker page's control forms without a Celery worker (the replies of a real one are
//! checked in the browser, end2end/celery.mjs): one form per API action, each posting to its
//! `/ui/celery-*` server function, which redirects back with "no reply in N ms" or the input
//! error as an error flash and writes no audit record for what nobody did; read-only hides the
//! forms and refuses the posts; a cross-site post never reaches the action.

use std::sync::Arc;

use app::state::Console;
use axum::body::Body;
use axum::http::{header, StatusCode};
use engine::celery::{Celery, Transport};
use engine::Store;
use server::serve::{router, ServeConfig};

use crate::support::{form_post, fresh_url, get, send, Ctx};

const FORMS: [&str; 7] = [
    "/ui/celery-pool",
    "/ui/celery-autoscale",
    "/ui/celery-rate-limit",
    "/ui/celery-time-limit",
    "/ui/celery-consumer",
    "/ui/celery-pool-restart",
    "/ui/celery-shutdown",
];

async fn console_ctx(read_only: bool) -> Ctx {
    let url = fresh_url();
    let store = Store::connect(&url).await.unwrap();
    let mut c = Celery::connect(&url, None, Transport::default()).unwrap();
    c.timeout = std::time::Duration::from_millis(200);
    let console = Arc::new(Console::new(store.clone(), read_only).with_celery(Arc::new(c)));
    let app = router(console.clone(), ServeConfig::default());
    Ctx {
        store,
        console,
        app,
    }
}

/// Posts `body` to `path` as a same-origin form; returns the redirect's decoded location.
async fn post_form(ctx: &Ctx, path: &str, body: &str) -> String {
    let req = form_post(path)
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .body(Body::from(body.to_string()))
        .unwrap();
    let r = send(&ctx.app, req).await;
    assert!(r.status.is_redirection(), "{path}: {} {}", r.status, r.body);
    let location = r.headers.get(header::LOCATION).unwrap().to_str().unwrap();
    decode(location)
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn audit_len(store: &Store) -> u64 {
    engine::audit::page(store, 0, 1).await.unwrap().total
}

#[tokio::test]
async fn worker_page_has_a_form_per_control_command() {
    let ctx = console_ctx(false).await;
    let r = send(&ctx.app, get("/celery/workers/w1%40h")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for action in FORMS {
        assert!(r.body.contains(&format!("action=\"{action}\"")), "{action}");
    }
    for testid in [
        "celery-pool-grow",
        "celery-pool-shrink",
        "celery-autoscale",
        "celery-rate-limit",
        "celery-time-limit",
        "celery-consumer-add",
        "celery-consumer-cancel",
        "celery-pool-restart",
        "celery-shutdown",
    ] {
        assert!(
            r.body.contains(&format!("data-testid=\"{testid}\"")),
            "{testid}"
        );
    }
    assert!(
        r.body.contains("no reply in 200 ms"),
        "inspect without a worker"
    );

    let ro = console_ctx(true).await;
    let r = send(&ro.app, get("/celery/workers/w1%40h")).await;
    assert_eq!(r.status, StatusCode::OK);
    for action in FORMS {
        assert!(!r.body.contains(action), "read-only page shows {action}");
    }
    let before = audit_len(&ro.store).await;
    let to = post_form(
        &ro,
        "/ui/celery-pool",
        "worker=w1%40h&op=grow&n=1&return_to=/x",
    )
    .await;
    assert!(to.contains("err=") && to.contains("read-only"), "{to}");
    assert_eq!(audit_len(&ro.store).await, before);
}

#[tokio::test]
async fn forms_report_no_reply_and_bad_input() {
    let ctx = console_ctx(false).await;
    let back = "return_to=/celery/workers/w1%40h";
    let cases = [
        (
            "/ui/celery-pool",
            "worker=w1%40h&op=grow&n=2",
            "no reply in 200 ms",
        ),
        (
            "/ui/celery-pool",
            "worker=w1%40h&op=shrink&n=",
            "no reply in 200 ms",
        ),
        (
            "/ui/celery-pool",
            "worker=w1%40h&op=grow&n=two",
            "must be a whole number",
        ),
        (
            "/ui/celery-pool",
            "worker=w1%40h&op=melt&n=1",
            "Choose grow or shrink",
        ),
        (
            "/ui/celery-pool",
            "worker=w1%40h&op=grow&n=0",
            "process count must be 1 to",
        ),
        (
            "/ui/celery-autoscale",
            "worker=w1%40h&max=4&min=2",
            "no reply in 200 ms",
        ),
        (
            "/ui/celery-autoscale",
            "worker=w1%40h&max=2&min=4",
            "above max",
        ),
        (
            "/ui/celery-autoscale",
            "worker=w1%40h&max=&min=1",
            "Enter a max",
        ),
        (
            "/ui/celery-rate-limit",
            "worker=w1%40h&task=t.add&rate=10%2Fm",
            "no reply in 200 ms",
        ),
        (
            "/ui/celery-rate-limit",
            "worker=w1%40h&task=t.add&rate=fast",
            "is not N, N/s",
        ),
        (
            "/ui/celery-time-limit",
            "worker=w1%40h&task=t.add&soft=5&hard=",
            "no reply in 200 ms",
        ),
        (
            "/ui/celery-time-limit",
            "worker=w1%40h&task=t.add&soft=x&hard=",
            "number of seconds",
        ),
        (
            "/ui/celery-time-limit",
            "worker=w1%40h&task=&soft=1&hard=2",
            "task name",
        ),
        (
            "/ui/celery-consumer",
            "worker=w1%40h&op=add&queue=extra",
            "no reply in 200 ms",
        ),
        (
            "/ui/celery-consumer",
            "worker=w1%40h&op=cancel&queue=extra",
            "no reply in 200 ms",
        ),
        (
            "/ui/celery-consumer",
            "worker=w1%40h&op=drop&queue=extra",
            "Choose add or cancel",
        ),
        (
            "/ui/celery-pool-restart",
            "worker=w1%40h",
            "no reply in 200 ms",
        ),
    ];
    for (path, fields, want) in cases {
        let to = post_form(&ctx, path, &format!("{fields}&{back}")).await;
        assert!(
            to.starts_with("/celery/workers/w1@h?") && to.contains("err=") && to.contains(want),
            "{path} {fields}: {to}"
        );
    }
    assert_eq!(
        audit_len(&ctx.store).await,
        0,
        "nothing was done, nothing audited"
    );

    let req = form_post("/ui/celery-pool")
        .header(header::ORIGIN, "https://attacker.example")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("worker=w1%40h&op=grow&n=1&return_to=/"))
        .unwrap();
    assert_eq!(send(&ctx.app, req).await.status, StatusCode::FORBIDDEN);
}
