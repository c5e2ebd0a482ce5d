//! `taskmill demo`: everything in one process so every console page has content within seconds:
//! a Redis (a private `redis-server`, or the one given with `--redis`), the console on
//! 127.0.0.1:9181, a 4-slot worker pool with demo handlers, and a traffic generator; beside
//! them the Celery side (`demo_celery`): a real Celery worker and its traffic on the same Redis,
//! shown by the console as `taskmill serve --celery-broker <that Redis>` would.
//!
//! Ctrl-C stops traffic, stops the Celery worker, drains the RQ worker, stops the console and
//! kills the private Redis (the guards also fire on panic). A second Ctrl-C stops running jobs
//! at once.

use std::sync::Arc;
use std::time::Duration;

use app::state::Console;
use clap::Args;
use engine::worker::{Handlers, PoolConfig, Shutdown};
use tokio_util::sync::CancellationToken;

use crate::demo_traffic;
use crate::redis_child::PrivateRedis;
use crate::serve::{self, ServeConfig};

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:
  taskmill demo                      # then open http://127.0.0.1:9181
  taskmill demo --private-redis --no-traffic
  taskmill demo --no-celery          # RQ only")]
pub struct DemoArgs {
    #[command(flatten)]
    pub site: crate::args::SiteArgs,
    #[command(flatten)]
    pub stats: crate::args::StatsArgs,
    /// Start the console and worker but enqueue nothing
    #[arg(long)]
    pub no_traffic: bool,
    /// Use a private redis-server even when --redis is given (a private one is the default)
    #[arg(long)]
    pub private_redis: bool,
    /// Skip the Celery side (a real Celery worker from the project's .venv and its traffic)
    #[arg(long)]
    pub no_celery: bool,
}

pub const QUEUES: [&str; 4] = ["default", "high", "low", "reports"];

/// `redis_flag` is `--redis` only when it was typed on the command line: the demo writes its
/// traffic into a Redis it did not start only when asked to in so many words, never because
/// `REDIS_URL` is set in the environment or something answers on 127.0.0.1:6379.
pub async fn run(
    redis_flag: Option<crate::redis_args::Redis>,
    args: DemoArgs,
) -> anyhow::Result<()> {
    let cfg = ServeConfig {
        site_root: args.site.site_root.clone(),
        stats: args.stats.config(),
        ..ServeConfig::default()
    };
    crate::security::check_bind(&args.site.addr(), &cfg.auth)
        .map_err(crate::process::UsageError)?;

    // Held until the end of this function: dropping it kills the private redis-server.
    let mut private = None;
    let url = match redis_flag.filter(|_| !args.private_redis) {
        Some(redis) => {
            let url = redis.shown().to_string();
            eprintln!("demo traffic goes to {url} (given with --redis); its keys stay there");
            (redis, url)
        }
        None => {
            let r = PrivateRedis::start()?;
            let url = r.url();
            eprintln!(
                "started a private redis-server on port {} (removed on exit)",
                r.port
            );
            private = Some(r);
            (crate::redis_args::Redis::from_url(&url)?, url)
        }
    };
    let (redis, url) = url;
    let store = redis.connect().await?;

    let scratch = match &private {
        Some(r) => r.dir.clone(),
        None => std::env::temp_dir(),
    };
    let mut handlers = Handlers::builtin();
    demo_traffic::register_handlers(&mut handlers);
    let exec_funcs = demo_traffic::register_exec(&mut handlers, &scratch);

    let shutdown = Shutdown::default();
    let pool = PoolConfig {
        queues: QUEUES.iter().map(|q| q.to_string()).collect(),
        concurrency: 4,
        drain_timeout: Duration::from_secs(10),
        ..PoolConfig::default()
    };
    let worker = tokio::spawn(engine::worker::run(
        store.clone(),
        pool,
        handlers,
        shutdown.clone(),
    ));

    let stop = CancellationToken::new();
    let traffic = (!args.no_traffic).then(|| {
        tokio::spawn(demo_traffic::generate(
            store.clone(),
            exec_funcs,
            stop.clone(),
        ))
    });

    // Declared after `private`, so it is dropped (workers stopped) before the Redis goes away.
    let mut celery_side = None;
    let mut console = Console::new(store, false);
    if !args.no_celery {
        match start_celery(&redis, !args.no_traffic) {
            Ok((side, celery)) => {
                eprintln!(
                    "started a Celery worker (pid {}, queues {}) on the same Redis; its log: {}",
                    side.worker_pid().unwrap_or(0),
                    crate::demo_celery::QUEUES,
                    side.dir.join("celery-worker.log").display()
                );
                celery_side = Some(side);
                console = console.with_celery(celery);
            }
            Err(why) => eprintln!("Celery side off: {why}"),
        }
    }
    let console = Arc::new(console);
    let mut server = tokio::spawn(serve::serve(
        console,
        cfg,
        args.site.addr(),
        stop.clone().cancelled_owned(),
    ));
    eprintln!(
        "\n  Taskmill demo: http://{}/   (Ctrl-C to stop)\n  Redis: {url}\n",
        args.site.addr()
    );

    let mut result = Ok(());
    tokio::select! {
        _ = crate::process::terminate_signal() => eprintln!("stopping: draining the worker…"),
        // The console failed (e.g. the port is taken): stop the rest and report it.
        r = &mut server => result = joined(r),
    }
    stop.cancel();
    if let Some(side) = celery_side.as_mut() {
        eprintln!("stopping the Celery worker…");
        side.stop();
    }
    shutdown.graceful.cancel();
    if let Some(t) = traffic {
        let _ = t.await;
    }
    let second = tokio::spawn({
        let s = shutdown.clone();
        async move {
            crate::process::terminate_signal().await;
            s.immediate.cancel();
        }
    });
    match worker.await {
        Ok(Ok(report)) => eprintln!(
            "worker stopped ({} succeeded, {} failed)",
            report.succeeded, report.failed
        ),
        Ok(Err(e)) => eprintln!("worker error: {e}"),
        Err(e) => eprintln!("worker task ended abnormally: {e}"),
    }
    second.abort();
    if !server.is_finished() {
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut server).await;
    }
    drop(celery_side);
    drop(private);
    result
}

/// The Celery side on the demo's Redis: the broker (and result backend) is that Redis, the
/// console reads it with the default kombu transport options.
fn start_celery(
    redis: &crate::redis_args::Redis,
    traffic: bool,
) -> Result<(crate::demo_celery::CeleryDemo, Arc<engine::celery::Celery>), String> {
    let broker = match redis.to_args() {
        [flag, url] if flag == "--redis" => url.clone(),
        _ => {
            return Err(
                "the Celery demo needs a plain --redis URL (no Sentinel, no TLS files)".into(),
            )
        }
    };
    let python = crate::demo_celery::find_python()?;
    let celery = engine::celery::Celery::connect(&broker, None, Default::default())
        .map_err(|e| format!("cannot read Celery at {}: {e}", redis.shown()))?;
    let side = crate::demo_celery::CeleryDemo::start(&python, &broker, traffic)
        .map_err(|e| e.to_string())?;
    Ok((side, Arc::new(celery)))
}

fn joined(r: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    match r {
        Ok(r) => r,
        Err(e) => Err(anyhow::anyhow!("console task ended abnormally: {e}")),
    }
}
