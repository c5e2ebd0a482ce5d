//! The page actions (`/ui/<fn>` server functions) through the full router: a no-JS form POST
//! acts and records the authenticated principal; cross-site and read-only posts change nothing.

use axum::body::Body;
use axum::http::{header, StatusCode};
use base64::Engine as _;
use server::security::AuthConfig;
use server::serve::ServeConfig;

use crate::support::*;

#[tokio::test]
async fn form_post_acts_as_the_logged_in_user() {
    let cfg = ServeConfig {
        auth: AuthConfig {
            users: vec![server::security::User::new(
                "carol",
                "pw",
                app::auth::Role::Admin,
            )],
            ..AuthConfig::default()
        },
        ..ServeConfig::default()
    };
    let c = ctx_with(cfg, false).await;
    let id = enqueue(&c.store, "q", "taskmill.echo").await;
    let form = format!("ids[]={id}&return_to=/queues/q");
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("carol:pw")
    );
    let req = form_post("/ui/delete")
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .header(header::AUTHORIZATION, auth)
        .body(Body::from(form.clone()))
        .unwrap();
    let r = send(&c.app, req).await;
    assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
    assert!(!exists(&c.store, &engine::keys::job(&id)).await, "deleted");
    let a = last_audit(&c.store).await;
    assert_eq!((a.who.as_str(), a.action.as_str()), ("carol", "delete"));

    // Without credentials the form post never reaches the action.
    let id2 = enqueue(&c.store, "q", "taskmill.echo").await;
    let form = format!("ids[]={id2}&return_to=/queues/q");
    let req = form_post("/ui/delete")
        .body(Body::from(form.clone()))
        .unwrap();
    assert_eq!(send(&c.app, req).await.status, StatusCode::UNAUTHORIZED);
    assert!(exists(&c.store, &engine::keys::job(&id2)).await);
}

#[tokio::test]
async fn cross_site_form_post_is_refused() {
    let c = ctx().await;
    let id = enqueue(&c.store, "q", "taskmill.echo").await;
    let form = format!("ids[]={id}&return_to=/");
    let req = form_post("/ui/delete")
        .header(header::ORIGIN, "https://attacker.example")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(form.clone()))
        .unwrap();
    let r = send(&c.app, req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        exists(&c.store, &engine::keys::job(&id)).await,
        "not deleted"
    );
}

#[tokio::test]
async fn read_only_form_post_changes_nothing() {
    let c = ctx_with(ServeConfig::default(), true).await;
    let id = enqueue(&c.store, "q", "taskmill.echo").await;
    let form = format!("ids[]={id}&return_to=/");
    let req = form_post("/ui/delete")
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .body(Body::from(form.clone()))
        .unwrap();
    let r = send(&c.app, req).await;
    assert!(r.status.as_u16() < 500, "{}: {}", r.status, r.body);
    assert!(
        exists(&c.store, &engine::keys::job(&id)).await,
        "not deleted"
    );
    assert_eq!(engine::audit::page(&c.store, 0, 5).await.unwrap().total, 0);
}

#[tokio::test]
async fn oversized_streamed_form_is_413() {
    let c = ctx().await;
    let id = enqueue(&c.store, "q", "taskmill.echo").await;
    let form = format!("ids[]={id}&return_to=/&pad={}", "x".repeat(70 * 1024));
    let chunks: Vec<Result<String, std::io::Error>> = form
        .as_bytes()
        .chunks(4096)
        .map(|c| Ok(String::from_utf8_lossy(c).into_owned()))
        .collect();
    let req = form_post("/ui/delete")
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let r = send(&c.app, req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        exists(&c.store, &engine::keys::job(&id)).await,
        "not deleted"
    );
}
