//! `taskmill demo`: everything in one process so every console page has content within seconds:
//! a Redis (the given one, the local one on 6379, or a private `redis-server`), the console on
//! 127.0.0.1:9181, a 4-slot worker pool with demo handlers, and a traffic generator.
//!
//! Ctrl-C stops traffic, drains the worker, stops the console and kills the private Redis
//! (its guard also fires on panic). A second Ctrl-C stops running jobs at once.

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
  taskmill demo --private-redis --no-traffic")]
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
}

pub const QUEUES: [&str; 4] = ["default", "high", "low", "reports"];

/// `redis_flag` is `--redis` only when it was typed on the command line: the demo writes its
/// traffic into a Redis it did not start only when asked to in so many words, never because
/// `REDIS_URL` is set in the environment or something answers on 127.0.0.1:6379.
pub async fn run(redis_flag: Option<String>, args: DemoArgs) -> anyhow::Result<()> {
    let cfg = ServeConfig {
        site_root: args.site.site_root.clone(),
        stats: args.stats.config(),
        ..ServeConfig::default()
    };
    crate::security::check_bind(&args.site.bind, &cfg.auth).map_err(crate::process::UsageError)?;

    // Held until the end of this function: dropping it kills the private redis-server.
    let mut private = None;
    let url = match redis_flag.filter(|_| !args.private_redis) {
        Some(url) => {
            eprintln!("demo traffic goes to {url} (given with --redis); its keys stay there");
            url
        }
        None => {
            let r = PrivateRedis::start()?;
            let url = r.url();
            eprintln!(
                "started a private redis-server on port {} (removed on exit)",
                r.port
            );
            private = Some(r);
            url
        }
    };
    let store = engine::Store::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to Redis at {url}: {e}"))?;

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

    let console = Arc::new(Console::new(store, false));
    let mut server = tokio::spawn(serve::serve(
        console,
        cfg,
        args.site.bind,
        stop.clone().cancelled_owned(),
    ));
    eprintln!(
        "\n  Taskmill demo: http://{}/   (Ctrl-C to stop)\n  Redis: {url}\n",
        args.site.bind
    );

    let mut result = Ok(());
    tokio::select! {
        _ = crate::process::terminate_signal() => eprintln!("stopping: draining the worker…"),
        // The console failed (e.g. the port is taken): stop the rest and report it.
        r = &mut server => result = joined(r),
    }
    stop.cancel();
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
    drop(private);
    result
}

fn joined(r: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    match r {
        Ok(r) => r,
        Err(e) => Err(anyhow::anyhow!("console task ended abnormally: {e}")),
    }
}
