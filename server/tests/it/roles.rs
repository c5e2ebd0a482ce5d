//! Roles (issue #14 item 8): a viewer is refused (403 `forbidden`, audited) on every action of
//! the API and of the pages — the routes are read from the API's sources and the server-function
//! registry, not listed by hand — an operator can requeue but not shut a worker down or delete a
//! search's matches, an admin can; the forms a role can't use are not rendered; failed logins
//! end in 429 with Retry-After.

use std::collections::BTreeSet;

use app::auth::Role;
use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use base64::Engine as _;
use server::security::{AuthConfig, User};
use server::serve::ServeConfig;

use crate::support::*;

fn roles_cfg() -> ServeConfig {
    ServeConfig {
        auth: AuthConfig {
            users: vec![
                User::new("vera", "pw-v", Role::Viewer),
                User::new("otto", "pw-o", Role::Operator),
                User::new("ada", "pw-a", Role::Admin),
            ],
            ..AuthConfig::default()
        },
        ..ServeConfig::default()
    }
}

fn basic(user: &str, pw: &str) -> String {
    let raw = format!("{user}:{pw}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn as_user(method: Method, uri: &str, auth: &str, body: &str) -> axum::http::Request<Body> {
    axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "127.0.0.1:9181")
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, auth)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Every non-GET route of `/api/v1`, read from `server/src/api/*.rs` (`.route("PATH", …post(…))`),
/// with each `{param}` filled in.
fn api_action_routes() -> BTreeSet<(String, Method)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for chunk in src.split(".route(").skip(1) {
            let Some(path) = chunk.split('"').nth(1) else {
                continue;
            };
            let handlers = &chunk[..chunk.find(".route(").unwrap_or(chunk.len())];
            let handlers = &handlers[..handlers.find(";").unwrap_or(handlers.len())];
            let path = fill_params(&format!("/api/v1{path}"));
            for (verb, method) in [
                ("post(", Method::POST),
                ("delete(", Method::DELETE),
                ("put(", Method::PUT),
                ("patch(", Method::PATCH),
            ] {
                if handlers.contains(verb) {
                    out.insert((path.clone(), method));
                }
            }
        }
    }
    out
}

fn fill_params(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every server function the pages post to (`/ui/<endpoint>`), from leptos's registry.
fn ui_routes() -> BTreeSet<(String, Method)> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(p, m)| (p.to_string(), m))
        .collect()
}

#[tokio::test]
async fn viewer_is_refused_every_action() {
    let c = ctx_with(roles_cfg(), false).await;
    let viewer = basic("vera", "pw-v");
    let api = api_action_routes();
    let ui = ui_routes();
    assert!(api.len() >= 30, "API action routes found: {api:?}");
    assert!(ui.len() >= 20, "server functions found: {ui:?}");
    let reads: BTreeSet<&str> = api
        .iter()
        .chain(&ui)
        .filter(|(p, _)| app::auth::required(p) == Role::Viewer)
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(
        reads,
        BTreeSet::from(["/ui/chart", "/ui/job_head", "/ui/live", "/ui/rows"]),
        "only the read-only server functions are open to viewers"
    );
    let mut refused = 0;
    for (path, method) in api.iter().chain(&ui) {
        if reads.contains(path.as_str()) {
            continue;
        }
        let r = send(&c.app, as_user(method.clone(), path, &viewer, "{}")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "forbidden".to_string()),
            "viewer {method} {path}: {}",
            r.body
        );
        refused += 1;
    }
    // Reads still work for a viewer, and the refusals are in the audit log.
    let r = send(&c.app, as_user(Method::GET, "/api/v1/queues", &viewer, "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let audit = wait_audit(&c.store, "forbidden", refused).await;
    assert!(audit.iter().all(|a| a.who == "vera"), "{audit:?}");
    assert!(
        audit
            .iter()
            .any(|a| a.target.starts_with("POST /api/v1/workers/x/shutdown")),
        "{audit:?}"
    );
}

/// Waits for `n` audit records of `action` (refusals are recorded in the background).
async fn wait_audit(
    store: &engine::Store,
    action: &str,
    n: usize,
) -> Vec<engine::model::AuditEntry> {
    for _ in 0..100 {
        let page = engine::audit::page(store, 0, 1000).await.unwrap();
        let hits: Vec<_> = page
            .items
            .into_iter()
            .filter(|a| a.action == action)
            .collect();
        if hits.len() >= n {
            return hits;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("fewer than {n} audit records of {action}");
}

#[tokio::test]
async fn operator_requeues_but_cannot_shut_down_or_delete_search() {
    let c = ctx_with(roles_cfg(), false).await;
    let operator = basic("otto", "pw-o");
    let admin = basic("ada", "pw-a");
    let id = failed_job(&c.store, "rq").await;
    let r = send(
        &c.app,
        as_user(
            Method::POST,
            &format!("/api/v1/jobs/{id}/requeue"),
            &operator,
            "",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "operator requeue: {}", r.body);
    assert_eq!(llen(&c.store, &engine::keys::queue("rq")).await, 1);
    let a = last_audit(&c.store).await;
    assert_eq!((a.who.as_str(), a.action.as_str()), ("otto", "requeue"));

    let search = r#"{"q":"func:taskmill.echo","expected":1}"#;
    for path in [
        "/api/v1/workers/w1/shutdown",
        "/api/v1/search/delete",
        "/api/v1/celery/workers/h/shutdown",
        "/ui/delete-search",
        "/ui/shutdown",
    ] {
        let r = send(&c.app, as_user(Method::POST, path, &operator, search)).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "forbidden".to_string()),
            "operator {path}: {}",
            r.body
        );
        // An admin gets past the role check (the action itself may then answer 4xx:
        // no such worker, no Celery configured, a form field missing...).
        let r = send(&c.app, as_user(Method::POST, path, &admin, search)).await;
        assert!(
            r.status != StatusCode::FORBIDDEN && !r.body.contains(r#""forbidden""#),
            "admin {path}: {} {}",
            r.status,
            r.body
        );
    }
    // A real worker shut down by an admin: the command is sent.
    let w = "w-admin-test";
    let _: () = redis(
        &c.store,
        redis::cmd("SADD")
            .arg(engine::keys::WORKERS)
            .arg(engine::keys::worker(w)),
    )
    .await;
    let _: () = redis(
        &c.store,
        redis::cmd("HSET")
            .arg(engine::keys::worker(w))
            .arg("state")
            .arg("idle")
            .arg("last_heartbeat")
            .arg(chrono_now()),
    )
    .await;
    let path = format!("/api/v1/workers/{w}/shutdown");
    let r = send(&c.app, as_user(Method::POST, &path, &operator, "")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&c.app, as_user(Method::POST, &path, &admin, "")).await;
    assert_ne!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}

fn chrono_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    format!("{now}")
}

#[tokio::test]
async fn pages_hide_what_the_role_cannot_use() {
    let c = ctx_with(roles_cfg(), false).await;
    failed_job(&c.store, "hq").await;
    let page = |auth: String| {
        let app = c.app.clone();
        async move {
            let req = axum::http::Request::builder()
                .uri("/failed")
                .header(header::AUTHORIZATION, auth)
                .body(Body::empty())
                .unwrap();
            let r = send(&app, req).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body
        }
    };
    let viewer = page(basic("vera", "pw-v")).await;
    let operator = page(basic("otto", "pw-o")).await;
    let admin = page(basic("ada", "pw-a")).await;
    for (who, body, requeue, delete) in [
        ("viewer", &viewer, false, false),
        ("operator", &operator, true, false),
        ("admin", &admin, true, true),
    ] {
        assert_eq!(
            body.contains(r#"action="/ui/requeue""#),
            requeue,
            "{who}: requeue form"
        );
        assert_eq!(
            body.contains(r#"action="/ui/delete""#) || body.contains(r#"formaction="/ui/delete""#),
            delete,
            "{who}: delete form"
        );
    }
    assert!(
        !viewer.contains("<form id=\"selection\""),
        "viewer: no selection bar"
    );
    // Links that lead to a confirmation step are hidden too, when the role can't confirm.
    for link in [
        r#"data-testid="requeue-all""#,
        r#"data-testid="requeue-queue-hq""#,
    ] {
        assert!(!viewer.contains(link), "viewer sees {link}");
        assert!(admin.contains(link), "admin misses {link}");
    }
}

#[tokio::test]
async fn failed_logins_are_slowed_then_refused_with_retry_after() {
    let c = ctx_with(roles_cfg(), false).await;
    let start = std::time::Instant::now();
    for i in 0..server::throttle::USER_LIMIT {
        let r = send(
            &c.app,
            as_user(Method::GET, "/api/v1/queues", &basic("otto", "nope"), ""),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "attempt {i}: {}",
            r.body
        );
    }
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(1500),
        "failures are slowed: {:?}",
        start.elapsed()
    );
    // Locked out now: even the right password is refused, without being checked; the
    // lockout is audited once however often it is hit.
    let r = send(
        &c.app,
        as_user(Method::GET, "/api/v1/queues", &basic("otto", "pw-o"), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.code(), "too_many_requests");
    let retry: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Another user is not affected; the refusals are audited.
    let r = send(
        &c.app,
        as_user(Method::GET, "/api/v1/queues", &basic("vera", "pw-v"), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let failed = wait_audit(&c.store, "login-failed", 5).await;
    assert!(failed.iter().all(|a| a.who == "otto"), "{failed:?}");
    let r = send(
        &c.app,
        as_user(Method::GET, "/api/v1/queues", &basic("otto", "pw-o"), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "still locked");
    wait_audit(&c.store, "login-throttled", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        wait_audit(&c.store, "login-throttled", 1).await.len(),
        1,
        "one record per lockout"
    );
}
