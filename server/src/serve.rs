//! `taskmill serve`: the console. `router` is the unit of test: pages (Leptos, server-rendered,
//! islands), server functions under `/ui`, the JSON API under `/api/v1`, `/metrics`, `/healthz`
//! and the static site (`/pkg/*`, `/boot.js`: embedded, see `site`, or from `--site-root`), all
//! behind the security layers, and all under `--url-prefix` when one is set (`prefix`).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use app::state::Console;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clap::Args;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{
    file_and_error_handler_with_context, generate_route_list_with_exclusions_and_ssg_and_context,
    LeptosRoutes,
};
use tower_http::limit::RequestBodyLimitLayer;

use crate::security::{self, AuthConfig, Guard, BODY_LIMIT};
use crate::{api, metrics};

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:
  taskmill serve --redis redis://127.0.0.1:6379
  taskmill serve --redis prod=rediss://:pw@prod.example.com:6380 --redis staging=redis://10.0.0.7:6379
  taskmill serve --bind 0.0.0.0:9181 --user alice:s3cret --metrics-token scrape-me
  taskmill serve --bind 0.0.0.0:9181 --user ops:pw1:operator --user dash:pw2:viewer --api-token ci-9f2c:operator
  taskmill serve --read-only
  taskmill serve --celery-broker redis://127.0.0.1:6379/0 --celery-backend redis://127.0.0.1:6379/1
  taskmill serve -u rediss://default:pw@redis.example.com:6380 --redis-ca ca.pem --port 8080
  taskmill serve --sentinel 10.0.0.5:26379 --sentinel 10.0.0.6:26379 --sentinel-master mymaster
  taskmill serve --config /etc/taskmill.toml --log-format json
  taskmill serve --url-prefix /taskmill --trusted-origin https://ops.example.com")]
pub struct ServeArgs {
    /// Hide and refuse every action
    #[arg(long)]
    pub read_only: bool,
    /// NAME:PASSWORD[:ROLE] for HTTP Basic auth (repeatable); ROLE is viewer, operator or
    /// admin (the default)
    #[arg(long = "user", env = "TASKMILL_USERS", value_delimiter = ',',
          value_parser = crate::security::parse_user, value_name = "NAME:PASSWORD[:ROLE]")]
    pub users: Vec<crate::security::User>,
    /// TOKEN[:ROLE]: Bearer token for the API and pages (repeatable); ROLE as for --user
    #[arg(long = "api-token", env = "TASKMILL_API_TOKENS", value_delimiter = ',',
          value_parser = crate::security::parse_token, value_name = "TOKEN[:ROLE]")]
    pub api_tokens: Vec<crate::security::Token>,
    /// Bearer token required by /metrics (instead of the console credentials)
    #[arg(long, env = "TASKMILL_METRICS_TOKEN", value_name = "TOKEN")]
    pub metrics_token: Option<String>,
    #[command(flatten)]
    pub site: crate::args::SiteArgs,
    #[command(flatten)]
    pub proxy: crate::args::ProxyArgs,
    #[command(flatten)]
    pub stats: crate::args::StatsArgs,
    /// `[[serve.users]]` of the config file (argon2 hashes), set by `cli` after parsing.
    #[arg(skip)]
    pub file_users: Vec<crate::password::HashedUser>,
    #[command(flatten)]
    pub celery: crate::celery_args::CeleryArgs,
}

/// The site's output name: `/pkg/taskmill.{js,wasm,css}`.
pub const OUTPUT_NAME: &str = "taskmill";

#[derive(Clone, Debug, Default)]
pub struct ServeConfig {
    pub auth: AuthConfig,
    /// `--site-root`: serve `pkg/taskmill.{js,wasm,css}` and `boot.js` from this directory
    /// instead of the copy embedded in the binary (`crate::site`).
    pub site_root: Option<PathBuf>,
    pub stats: StatsConfig,
    /// `--url-prefix`: the path the console is served under (empty: `/`).
    pub base: app::url::Base,
    /// `--trusted-origin`, `--trust-proxy`: cross-site checks behind a proxy.
    pub origins: crate::origin::OriginPolicy,
}

/// The site root given to Leptos's file handler when the site is embedded: a path that cannot
/// exist, so that handler never serves files from the working directory.
const NO_DISK_SITE: &str = "/nonexistent/taskmill-site-is-embedded";

/// The history sampler (`--stats-*`).
#[derive(Clone, Copy, Debug)]
pub struct StatsConfig {
    /// Seconds between samples; 0 = no sampler.
    pub interval_s: u64,
    pub retention: engine::stats::Retention,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            interval_s: 10,
            retention: engine::stats::Retention::default(),
        }
    }
}

/// Built in code rather than read from Cargo.toml, so the binary runs from any directory.
pub fn leptos_options(site_root: &std::path::Path) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .env(Env::PROD)
        .build()
}

pub fn router(console: Arc<Console>, cfg: ServeConfig) -> Router {
    router_scoped(console, cfg, None)
}

/// One instance's place among several (`crate::instances`).
#[derive(Clone)]
pub struct Scope {
    pub fleet: Arc<app::state::Fleet>,
    pub here: app::state::Here,
    /// This instance's `/metrics` reports every instance (the default one's does).
    pub all_metrics: bool,
}

/// The console of one instance; `scope` when it is one of several.
pub fn router_scoped(console: Arc<Console>, cfg: ServeConfig, scope: Option<Scope>) -> Router {
    let disk = cfg.site_root.as_deref();
    let opts = leptos_options(disk.unwrap_or(std::path::Path::new(NO_DISK_SITE)));
    let assets = match disk {
        Some(_) => app::SiteAssets::default(),
        None => crate::site::shell_urls(),
    };
    let context = {
        let console = console.clone();
        let scope = scope.clone();
        move || {
            provide_context(console.clone());
            provide_context(assets.clone());
            if let Some(s) = &scope {
                provide_context(s.fleet.clone());
                provide_context(s.here.clone());
            }
        }
    };
    // Route discovery renders the app once, and pages expect the Console in context.
    let (routes, _) =
        generate_route_list_with_exclusions_and_ssg_and_context(app::App, None, context.clone());
    let shell = {
        let opts = opts.clone();
        move || app::shell(opts.clone())
    };
    // Pages and server functions (leptos_routes_* registers every `/ui/<fn>` too), then
    // static files from the site root, then the app's own 404 page.
    let embedded = match disk {
        Some(_) => Router::new(),
        None => crate::site::router(),
    };
    let pages = Router::new()
        .leptos_routes_with_context(&opts, routes, context.clone(), shell)
        .fallback(file_and_error_handler_with_context(context, app::shell))
        .with_state(opts);
    let guard = Arc::new(Guard {
        auth: cfg.auth,
        read_only: console.read_only,
        origins: cfg.origins,
        audit: Some(console.store.clone()),
    });
    let metrics = match &scope {
        None => Router::new()
            .route("/metrics", get(metrics::handler))
            .with_state(console.clone()),
        Some(s) if s.all_metrics => Router::new()
            .route("/metrics", get(crate::instances::metrics))
            .with_state(s.fleet.clone()),
        Some(s) => Router::new()
            .route("/metrics", get(crate::instances::metrics_one))
            .with_state((s.here.name.clone(), console.clone())),
    };
    // `/api/v1/instances`: this console's instances (just this one without several).
    let fleet = match &scope {
        Some(s) => s.fleet.clone(),
        None => Arc::new(app::state::Fleet {
            instances: vec![("default".into(), console.clone())],
        }),
    };
    let app = Router::new()
        .route("/healthz", get(healthz))
        .with_state(console.clone())
        .merge(metrics)
        .nest("/api/v1", api::router(console, fleet))
        .merge(embedded)
        .merge(pages)
        // Innermost first: the body limit for chunked bodies (declared sizes are refused
        // earlier by `guard` with a JSON 413), then auth/CSRF, then the headers on everything.
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(guard, security::guard))
        .layer(from_fn(security::strip_inline_scripts))
        .layer(from_fn(security::headers))
        .layer(from_fn(crate::access_log::layer));
    match scope {
        // One of several instances: the dispatcher in front cuts the prefix (`instances`).
        Some(_) => app,
        None => with_prefix(app, cfg.base),
    }
}

/// Outermost: `Router::layer` runs after routing, so the prefix is cut in a router of its
/// own, around the whole app as its fallback; everything inside routes app paths.
pub fn with_prefix(app: Router, base: app::url::Base) -> Router {
    Router::new()
        .fallback_service(app)
        .layer(from_fn_with_state(Arc::new(base), crate::prefix::layer))
}

/// 200 `ok` when Redis answers PING within 2 s, else 503.
async fn healthz(State(c): State<Arc<Console>>) -> Response {
    let mut conn = c.store.conn();
    let cmd = redis::cmd("PING");
    let ping = cmd.query_async::<String>(&mut conn);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "redis unreachable").into_response(),
    }
}

/// Binds and serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    console: Arc<Console>,
    cfg: ServeConfig,
    bind: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_all(vec![("default".into(), console)], cfg, bind, shutdown).await
}

/// `serve` for one or several instances (the first is the default; see `crate::instances`).
pub async fn serve_all(
    fleet: Vec<(String, Arc<Console>)>,
    cfg: ServeConfig,
    bind: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    security::check_bind(&bind, &cfg.auth).map_err(crate::process::UsageError)?;
    match &cfg.site_root {
        Some(dir) if !dir.join("pkg").is_dir() => tracing::warn!(
            site_root = %dir.display(),
            "no pkg/ under --site-root: pages work, but without styles or live widgets"
        ),
        None if !crate::site::embedded() => tracing::warn!(
            "this binary was built without the site (run scripts/build-site.sh first, or pass \
             --site-root DIR): pages work, but without styles or live widgets"
        ),
        _ => {}
    }
    // Each instance's own background work: the failure index, the history sampler, Celery.
    let mut tasks = Vec::new();
    for (_, console) in &fleet {
        tasks.push(tokio::spawn(index_failures(console.clone())));
        tasks.push(tokio::spawn(sample_stats(console.clone(), cfg.stats)));
        tasks.extend(console.celery.as_ref().map(crate::celery_args::spawn));
    }
    let app = match &fleet[..] {
        [(_, one)] => router(one.clone(), cfg),
        several => crate::instances::router(several, cfg),
    };
    // Live event streams never end on their own: close them when shutdown starts, or the
    // graceful shutdown would wait for every open browser.
    let consoles: Vec<_> = fleet.iter().map(|(_, c)| c.clone()).collect();
    let shutdown = async move {
        shutdown.await;
        for c in consoles {
            c.events.close();
        }
    };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    tracing::info!("console listening on http://{}", listener.local_addr()?);
    // The peer address is the client the login throttle counts failures for.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    for t in tasks {
        t.abort();
    }
    served?;
    Ok(())
}

/// The console's background task for the failure-group index: advances it for about 25 ms,
/// then pauses as long, and once a pass is done waits 2 s before the next, so `as_of` stays a few
/// seconds old without a page load ever walking a registry, and Redis (single-threaded: each
/// slice is one script call) spends at most about half its time on the index during a pass,
/// never all of it, so page reads queued behind it stay fast. Redis down: retry every 5 s.
async fn index_failures(console: Arc<Console>) {
    loop {
        let pause = match console
            .backend
            .index_failures(Duration::from_millis(25))
            .await
        {
            Ok(Some(p)) if p.pass_done => Duration::from_secs(2),
            Ok(Some(_)) => Duration::from_millis(25),
            Ok(None) => Duration::from_secs(1),
            Err(e) => {
                tracing::debug!(error = %e, "failure-group index: not advanced");
                Duration::from_secs(5)
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// The console's background task for history: stores the retention for the workers, then
/// takes one sample per interval slot (just after each slot starts; with several consoles on
/// one Redis the first to take the slot's lock writes it, the others skip). Redis down: the
/// slot is skipped and the next one tried.
async fn sample_stats(console: Arc<Console>, cfg: StatsConfig) {
    if cfg.interval_s == 0 {
        return;
    }
    let mut configured = false;
    loop {
        if !configured {
            configured = engine::stats::configure(&console.store, cfg.retention)
                .await
                .map_err(|e| tracing::debug!(error = %e, "history: retention not stored"))
                .is_ok();
        }
        match console.backend.stats_sample(cfg.interval_s).await {
            Ok(engine::stats::SampleOutcome::Written { .. }) => {
                if let Some(cel) = &console.celery {
                    let now = engine::time::now() as i64;
                    if let Err(e) = engine::celery::history::sample(cel, now).await {
                        tracing::debug!(error = %e, "history: Celery queues not sampled");
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "history: sample skipped"),
        }
        let now = engine::time::now();
        let step = cfg.interval_s as f64;
        let next = ((now / step).floor() + 1.0) * step + 0.2;
        tokio::time::sleep(Duration::from_secs_f64((next - now).max(0.05))).await;
    }
}

/// `taskmill serve`: starts even when Redis is down (pages then say "Redis unreachable" and
/// `/healthz` answers 503 until it is back). What the user must fix (TLS trust, credentials,
/// a Sentinel that knows no such master, a Cluster) is refused at start, exit 2.
pub async fn run(redis: &crate::redis_args::Redis, args: ServeArgs) -> anyhow::Result<()> {
    run_all(vec![("default".into(), redis.clone())], args).await
}

/// `run` for one or several Redis instances (`--redis NAME=URL`, repeated; the first is the
/// default). An instance that is down at start is served anyway, like a single one.
pub async fn run_all(
    redis: Vec<(String, crate::redis_args::Redis)>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let bind = args.site.addr();
    let cfg = ServeConfig {
        auth: AuthConfig {
            users: args.users,
            api_tokens: args.api_tokens,
            metrics_token: args.metrics_token,
            hashed_users: args.file_users,
            ..AuthConfig::default()
        },
        site_root: args.site.site_root,
        stats: args.stats.config(),
        base: args.proxy.url_prefix.unwrap_or_default(),
        origins: crate::origin::OriginPolicy {
            trusted: args.proxy.trusted_origins,
            trust_proxy: args.proxy.trust_proxy,
        },
    };
    security::check_bind(&bind, &cfg.auth).map_err(crate::process::UsageError)?;
    let mut fleet = Vec::new();
    for (i, (name, redis)) in redis.into_iter().enumerate() {
        let store = match redis.connect().await {
            Ok(store) => store,
            Err(e) if crate::process::is_usage_error(&e) => return Err(e),
            Err(e) => {
                tracing::warn!(instance = %name, error = %format!("{e:#}"),
                    "serving anyway: pages say Redis is unreachable until it is back");
                redis.open()?
            }
        };
        let mut console = Console::new(store, args.read_only);
        // Celery's broker is watched beside the default instance.
        if i == 0 {
            if let Some(c) = args.celery.connect()? {
                // Celery's history goes into the same series as RQ's (the console's Redis).
                let _ = c.history.set(console.store.clone());
                console = console.with_celery(c);
            }
        }
        fleet.push((name, Arc::new(console)));
    }
    serve_all(fleet, cfg, bind, crate::process::terminate_signal()).await
}
