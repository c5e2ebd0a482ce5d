//! Test support: the shared test redis-server (`engine::testing`: free port, no persistence),
//! RQ-shaped fixture writers, and a page renderer that mirrors leptos_axum's async SSR path.

use std::io::Write;
use std::sync::Arc;

use app::state::Console;
use axum::http::StatusCode;
use base64::Engine as _;
use futures::StreamExt;
use leptos::prelude::*;
use redis::AsyncCommands;

pub use engine::testing::free_port;

/// A console on a fresh, empty database of the shared test server.
pub async fn console(read_only: bool) -> Arc<Console> {
    let store = engine::Store::connect(&engine::testing::fresh_url())
        .await
        .expect("connect to test redis");
    Arc::new(Console::new(store, read_only))
}

/// A console whose Redis is a closed port (nothing listens there).
pub async fn unreachable_console() -> Arc<Console> {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let store = engine::Store::connect_lazy(&url).expect("lazy store");
    Arc::new(Console::new(store, false))
}

pub fn conn(c: &Console) -> redis::aio::ConnectionManager {
    c.store.conn()
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn rq_time(t: f64) -> String {
    engine::time::format_rq(t)
}

/// A job hash the way RQ 2.12 writes it (JSON serializer), listed nowhere yet.
pub struct Job {
    pub id: String,
    pub queue: String,
    pub func: String,
    pub args: serde_json::Value,
    pub status: String,
    pub description: Option<String>,
}

impl Job {
    pub fn new(id: &str, queue: &str, status: &str) -> Job {
        Job {
            id: id.into(),
            queue: queue.into(),
            func: "tasks.add".into(),
            args: serde_json::json!([2, 3]),
            status: status.into(),
            description: None,
        }
    }

    pub async fn write(&self, c: &Console) {
        let now = engine::time::now();
        let data = serde_json::json!([self.func, null, self.args, {}]).to_string();
        let description = self
            .description
            .clone()
            .unwrap_or_else(|| format!("{}(2, 3)", self.func));
        let mut con = conn(c);
        let fields: Vec<(&str, Vec<u8>)> = vec![
            ("created_at", rq_time(now - 60.0).into_bytes()),
            ("data", zlib(data.as_bytes())),
            ("success_callback_name", vec![]),
            ("failure_callback_name", vec![]),
            ("stopped_callback_name", vec![]),
            ("started_at", vec![]),
            ("ended_at", vec![]),
            ("last_heartbeat", vec![]),
            ("worker_name", vec![]),
            ("group_id", vec![]),
            ("origin", self.queue.clone().into_bytes()),
            ("description", description.into_bytes()),
            ("enqueued_at", rq_time(now - 50.0).into_bytes()),
            ("timeout", b"180".to_vec()),
            ("status", self.status.clone().into_bytes()),
        ];
        let _: () = con
            .hset_multiple(format!("rq:job:{}", self.id), &fields)
            .await
            .unwrap();
        let _: () = con
            .sadd("rq:queues", format!("rq:queue:{}", self.queue))
            .await
            .unwrap();
    }
}

/// A queued job: hash + RPUSH.
pub async fn queued(c: &Console, job: Job) {
    job.write(c).await;
    let _: () = conn(c)
        .rpush(format!("rq:queue:{}", job.queue), &job.id)
        .await
        .unwrap();
}

/// A failed job: hash + failed registry + a FAILED result entry carrying `traceback`.
pub async fn failed(c: &Console, job: Job, traceback: &str) {
    job.write(c).await;
    let mut con = conn(c);
    let now = engine::time::now();
    let _: () = con
        .hset_multiple(
            format!("rq:job:{}", job.id),
            &[
                ("ended_at", rq_time(now - 5.0)),
                ("started_at", rq_time(now - 6.0)),
            ],
        )
        .await
        .unwrap();
    let _: () = con
        .zadd(
            format!("rq:failed:{}", job.queue),
            &job.id,
            now + 31_536_000.0,
        )
        .await
        .unwrap();
    let exc = base64::engine::general_purpose::STANDARD.encode(zlib(traceback.as_bytes()));
    let _: String = con
        .xadd(
            format!("rq:results:{}", job.id),
            "*",
            &[
                ("type", "2"),
                ("worker_name", "w1"),
                ("exc_string", exc.as_str()),
            ],
        )
        .await
        .unwrap();
}

/// What a page render produced.
pub struct Rendered {
    pub status: StatusCode,
    pub html: String,
    /// What leptos_axum appends after the page: its hydration-data `<script>`s.
    pub appended: Vec<String>,
}

/// Renders `<App/>` at `path` (with query) the way leptos_axum's async route handler does.
pub async fn render(console: Arc<Console>, path: &str) -> Rendered {
    let _ = any_spawner::Executor::init_tokio();
    let shared = Arc::new(hydration_context::SsrSharedContext::new());
    let owner = Owner::new_root(Some(shared.clone()));
    let res = leptos_axum::ResponseOptions::default();
    let html = owner
        .with(|| {
            provide_context(console);
            provide_context(res.clone());
            provide_context(leptos_router::location::RequestUrl::new(path));
            view! { <app::App/> }.to_html_stream_in_order()
        })
        .collect::<Vec<_>>()
        .await
        .concat();
    let status = res.0.read().unwrap().status.unwrap_or(StatusCode::OK);
    let appended = match hydration_context::SharedContext::pending_data(&*shared) {
        Some(stream) => {
            stream
                .map(|chunk| format!("<script>{chunk}</script>"))
                .collect()
                .await
        }
        None => Vec::new(),
    };
    Rendered {
        status,
        html,
        appended,
    }
}

/// Runs a server function body with the context leptos_axum gives it for a no-JS form post.
pub async fn post<F, Fut, T>(
    console: Arc<Console>,
    who: Option<&str>,
    f: F,
) -> (T, Option<String>, StatusCode)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    call(console, who, "text/html", f).await
}

/// The same call as a script (server-fn client / curl) makes it: no `text/html` in Accept.
pub async fn call<F, Fut, T>(
    console: Arc<Console>,
    who: Option<&str>,
    accept: &str,
    f: F,
) -> (T, Option<String>, StatusCode)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let _ = any_spawner::Executor::init_tokio();
    let owner = Owner::new();
    let res = leptos_axum::ResponseOptions::default();
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri("/ui/x")
        .header("accept", accept);
    if let Some(who) = who {
        req = req.extension(app::auth::Principal(who.to_string()));
    }
    let (parts, _) = req.body(()).unwrap().into_parts();
    let fut = owner.with(|| {
        provide_context(console);
        provide_context(res.clone());
        provide_context(parts);
        leptos::reactive::computed::ScopedFuture::new_untracked(f())
    });
    let out = fut.await;
    let r = res.0.read().unwrap();
    let location = r
        .headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (out, location, r.status.unwrap_or(StatusCode::OK))
}
