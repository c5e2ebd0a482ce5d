//! Option groups that several subcommands share, flattened into each (`#[command(flatten)]`),
//! so a flag means the same thing, with the same default and check, everywhere it appears.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::process::UsageError;

/// How a worker proves it is alive and how fast abandoned jobs come back (`worker`, `chaos`).
#[derive(Args, Debug, Clone)]
pub struct LeaseArgs {
    /// Seconds between a worker's heartbeats
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub heartbeat: u64,
    /// Seconds a running job may go without a heartbeat before a live worker reaps it
    /// (retried or failed); longer than --heartbeat
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub lease: u64,
    /// Seconds between reaper passes over abandoned jobs
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub reap_interval: u64,
}

impl LeaseArgs {
    pub fn check(&self) -> Result<(), UsageError> {
        if self.heartbeat == 0 || self.lease <= self.heartbeat || self.reap_interval == 0 {
            return Err(UsageError(
                "--lease must be longer than --heartbeat (and both above 0, --reap-interval too)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The same options as command-line arguments, for a child `taskmill worker`.
    pub fn to_args(&self) -> [String; 6] {
        [
            "--heartbeat".into(),
            self.heartbeat.to_string(),
            "--lease".into(),
            self.lease.to_string(),
            "--reap-interval".into(),
            self.reap_interval.to_string(),
        ]
    }
}

/// Where the console listens and what it serves (`serve`, `demo`).
#[derive(Args, Debug, Clone)]
pub struct SiteArgs {
    /// Address to listen on; anything but loopback needs --user or --api-token
    #[arg(long, default_value = "127.0.0.1:9181", value_name = "ADDR:PORT")]
    pub bind: SocketAddr,
    /// Serve pkg/ and boot.js from DIR (made by scripts/build-site.sh) instead of the copy
    /// embedded in the binary
    #[arg(long, env = "LEPTOS_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,
    /// Port to listen on (replaces the port of --bind; the address stays)
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
}

impl SiteArgs {
    /// `--bind`, with `--port` applied.
    pub fn addr(&self) -> SocketAddr {
        let mut a = self.bind;
        if let Some(p) = self.port {
            a.set_port(p);
        }
        a
    }
}

/// Serving behind a reverse proxy (`serve`).
#[derive(Args, Debug, Clone)]
pub struct ProxyArgs {
    /// Serve everything (pages, assets, /ui, /api/v1, /metrics, /healthz) under this path,
    /// e.g. /taskmill for a proxy's `location /taskmill/`; requests outside it get 404
    #[arg(long, value_name = "PATH", value_parser = app::url::Base::parse)]
    pub url_prefix: Option<app::url::Base>,
    /// An origin (scheme://host[:port]) whose browser POSTs are accepted even though it is not
    /// the Host the console sees (repeatable)
    #[arg(long = "trusted-origin", env = "TASKMILL_TRUSTED_ORIGINS", value_delimiter = ',',
          value_parser = crate::origin::parse_origin, value_name = "URL")]
    pub trusted_origins: Vec<(String, String)>,
    /// Believe X-Forwarded-Host / X-Forwarded-Proto for the cross-site check (only when every
    /// request comes through a proxy that sets them)
    #[arg(long)]
    pub trust_proxy: bool,
}

/// History recording by the console (`serve`, `demo`): how often gauges are sampled and how long
/// buckets are kept (workers read the retention from Redis, so one console sets it for all).
#[derive(Args, Debug, Clone)]
pub struct StatsArgs {
    /// Seconds between history samples (queue depth, oldest-job age, busy / idle workers,
    /// Python workers' counters); 0 = do not sample
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub stats_interval: u64,
    /// Hours 1-minute history buckets are kept
    #[arg(long, default_value_t = 48, value_name = "HOURS",
          value_parser = clap::value_parser!(u64).range(1..=24 * 366))]
    pub stats_minute_retention: u64,
    /// Days 1-hour history buckets are kept
    #[arg(long, default_value_t = 90, value_name = "DAYS",
          value_parser = clap::value_parser!(u64).range(1..=3660))]
    pub stats_hour_retention: u64,
}

impl StatsArgs {
    pub fn config(&self) -> crate::serve::StatsConfig {
        crate::serve::StatsConfig {
            interval_s: self.stats_interval,
            retention: engine::stats::Retention {
                minute_s: self.stats_minute_retention * 3_600,
                hour_s: self.stats_hour_retention * 86_400,
            },
        }
    }
}
