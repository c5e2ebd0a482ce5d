//! Test helpers: a router over a fresh Redis database, one-shot requests without TCP, and raw
//! Redis access to check state before and after each action.

use std::sync::Arc;

use app::state::Console;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use engine::enqueue::NewJob;
use engine::Store;
use server::serve::{router, ServeConfig};
use tower::ServiceExt;

pub use crate::redis::{free_port, fresh_url};

pub struct Ctx {
    pub store: Store,
    pub console: Arc<Console>,
    pub app: Router,
}

pub async fn ctx() -> Ctx {
    ctx_with(ServeConfig::default(), false).await
}

pub async fn ctx_with(cfg: ServeConfig, read_only: bool) -> Ctx {
    let store = Store::connect(&fresh_url())
        .await
        .expect("connect to test redis");
    let console = Arc::new(Console::new(store.clone(), read_only));
    let app = router(console.clone(), cfg);
    Ctx {
        store,
        console,
        app,
    }
}

/// A context whose Redis is a closed port (nothing listens there).
pub fn ctx_redis_down() -> Ctx {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let store = Store::connect_lazy(&url).expect("lazy store");
    let console = Arc::new(Console::new(store.clone(), false));
    let app = router(console.clone(), ServeConfig::default());
    Ctx {
        store,
        console,
        app,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    /// The `code` of a `{code, message}` error body.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_string()
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("infallible router");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 16 * 1024 * 1024)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn get(uri: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .header(header::HOST, "127.0.0.1:9181")
        .body(Body::empty())
        .unwrap()
}

/// A same-origin POST with a JSON body (empty string = no body).
pub fn post(uri: &str, body: &str) -> Request<Body> {
    post_builder(uri)
        .body(Body::from(body.to_string()))
        .unwrap()
}

pub fn post_builder(uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::HOST, "127.0.0.1:9181")
        .header(header::ORIGIN, "http://127.0.0.1:9181")
        .header(header::CONTENT_TYPE, "application/json")
}

pub async fn enqueue(store: &Store, queue: &str, func: &str) -> String {
    engine::enqueue::enqueue(store, NewJob::new(queue, func))
        .await
        .expect("enqueue")
}

/// Raw Redis access for before/after checks.
pub async fn redis<T: redis::FromRedisValue>(store: &Store, cmd: &mut redis::Cmd) -> T {
    let mut conn = store.conn();
    cmd.query_async(&mut conn).await.expect("redis command")
}

pub async fn llen(store: &Store, key: &str) -> u64 {
    redis(store, redis::cmd("LLEN").arg(key)).await
}

pub async fn zcard(store: &Store, key: &str) -> u64 {
    redis(store, redis::cmd("ZCARD").arg(key)).await
}

pub async fn exists(store: &Store, key: &str) -> bool {
    redis::<u64>(store, redis::cmd("EXISTS").arg(key)).await == 1
}

/// Newest audit entry.
pub async fn last_audit(store: &Store) -> engine::model::AuditEntry {
    let page = engine::audit::page(store, 0, 1).await.expect("audit page");
    page.items.into_iter().next().expect("an audit entry")
}

/// Runs the real worker in burst mode with the built-in handlers until the queues are empty.
pub async fn work(store: &Store, queues: &[&str]) {
    let cfg = engine::worker::PoolConfig {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency: 1,
        burst: true,
        with_scheduler: false,
        ..engine::worker::PoolConfig::default()
    };
    let run = engine::worker::run(
        store.clone(),
        cfg,
        engine::worker::Handlers::builtin(),
        engine::worker::Shutdown::default(),
    );
    tokio::time::timeout(std::time::Duration::from_secs(20), run)
        .await
        .expect("burst worker finishes")
        .expect("worker ok");
}

/// A job that failed for real: enqueued `taskmill.fail`, run by a burst worker.
pub async fn failed_job(store: &Store, queue: &str) -> String {
    let job = NewJob::new(queue, "taskmill.fail").args(vec![serde_json::json!("boom")]);
    let id = engine::enqueue::enqueue(store, job).await.expect("enqueue");
    work(store, &[queue]).await;
    assert_eq!(
        zcard(store, &engine::keys::failed(queue)).await,
        1,
        "job failed"
    );
    id
}

/// A form post as a browser without JavaScript sends it (same-origin, HTML accepted).
pub fn form_post(uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::HOST, "127.0.0.1:9181")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, "http://127.0.0.1:9181/queues/q")
}
