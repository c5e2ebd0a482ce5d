//! Where every subcommand's Redis is: the global connection flags (`--redis` / `-u` / `--url`,
//! `--redis-ca`, `--redis-cert`, `--redis-key`, `--sentinel`, `--sentinel-master`), resolved
//! once into a [`Redis`] that connects the same way for the console, workers and one-shot
//! commands, and can be handed to a child `taskmill` process as arguments.
//!
//! The URL's sources, first wins: the flag, `TASKMILL_REDIS`, `REDIS_URL`, `RQ_REDIS_URL`,
//! `RQ_DASHBOARD_REDIS_URL` (RQ's and rq-dashboard's names), `redis = ...` in the config file,
//! then `redis://127.0.0.1:6379`.

use std::path::PathBuf;

use clap::Args;
use engine::store::{Target, TlsFiles};
use engine::Store;

use crate::process::{UsageError, DEFAULT_REDIS};

/// Environment variables holding the Redis URL, in order of precedence (after the flag).
pub const URL_ENV: [&str; 4] = [
    "TASKMILL_REDIS",
    "REDIS_URL",
    "RQ_REDIS_URL",
    "RQ_DASHBOARD_REDIS_URL",
];

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Redis connection (any subcommand)")]
pub struct RedisArgs {
    /// Redis URL: redis://[USER:PASS@]HOST:PORT[/DB], rediss://... (TLS), unix:///PATH[?db=N],
    /// redis+sentinel://HOST:PORT[,HOST:PORT]/MASTER[/DB] [env: TASKMILL_REDIS, REDIS_URL,
    /// RQ_REDIS_URL, RQ_DASHBOARD_REDIS_URL] [default: redis://127.0.0.1:6379]
    /// For `serve`, repeatable as NAME=URL: several Redis instances in one console.
    #[arg(
        long,
        short = 'u',
        visible_alias = "url",
        global = true,
        value_name = "URL",
        action = clap::ArgAction::Append
    )]
    pub redis: Vec<String>,
    /// CA certificate(s), PEM, that a rediss:// server must chain to [default: SSL_CERT_FILE,
    /// else the system store]
    #[arg(long, global = true, value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,
    /// Client certificate, PEM, for a rediss:// server that requires one (with --redis-key)
    #[arg(long, global = true, value_name = "FILE")]
    pub redis_cert: Option<PathBuf>,
    /// The client certificate's private key, PEM
    #[arg(long, global = true, value_name = "FILE")]
    pub redis_key: Option<PathBuf>,
    /// A Sentinel to ask for the master (repeatable; with --sentinel-master, instead of --redis)
    #[arg(long, global = true, value_delimiter = ',', value_name = "HOST:PORT")]
    pub sentinel: Vec<String>,
    /// The master's name as the Sentinels know it
    #[arg(long, global = true, value_name = "NAME")]
    pub sentinel_master: Option<String>,
}

/// A resolved connection: what to connect to, and how to say so to a child process.
#[derive(Clone, Debug)]
pub struct Redis {
    pub target: Target,
    args: Vec<String>,
}

impl RedisArgs {
    /// Checks the flags together; `url` is `--redis` after the environment and the config
    /// file were consulted (`None`: the default). Files are read here, so a missing CA or key
    /// is reported before anything connects.
    pub fn resolve(&self, url: Option<String>) -> Result<Redis, UsageError> {
        let usage = |e: engine::Error| UsageError(e.to_string());
        let mut args = Vec::new();
        let target = match (&self.sentinel[..], &self.sentinel_master) {
            ([], None) => {
                let url = url.unwrap_or_else(|| DEFAULT_REDIS.to_string());
                args.extend(["--redis".to_string(), url.clone()]);
                Target::parse(&url).map_err(usage)?
            }
            ([_, ..], Some(master)) => {
                if !self.redis.is_empty() {
                    return Err(UsageError(
                        "give either --redis or --sentinel/--sentinel-master, not both (for a \
                         password or db with Sentinel, use redis+sentinel://:PASS@HOST:PORT/MASTER/DB)"
                            .into(),
                    ));
                }
                args.extend(["--sentinel".into(), self.sentinel.join(",")]);
                args.extend(["--sentinel-master".into(), master.clone()]);
                Target::sentinel(&self.sentinel, master).map_err(usage)?
            }
            _ => {
                return Err(UsageError(
                    "--sentinel and --sentinel-master go together".into(),
                ))
            }
        };
        let tls = TlsFiles {
            ca: self.redis_ca.clone(),
            cert: self.redis_cert.clone(),
            key: self.redis_key.clone(),
        };
        for (flag, v) in [
            ("--redis-ca", &tls.ca),
            ("--redis-cert", &tls.cert),
            ("--redis-key", &tls.key),
        ] {
            if let Some(p) = v {
                args.extend([flag.to_string(), p.display().to_string()]);
            }
        }
        let target = target.with_tls(tls).map_err(usage)?;
        // Reads and checks the files now (the store it builds is dropped unused).
        if target.is_tls() {
            Store::open(&target).map_err(usage)?;
        }
        Ok(Redis { target, args })
    }
}

impl Redis {
    /// A plain URL, no TLS files (the demo's private redis-server, tests).
    pub fn from_url(url: &str) -> Result<Redis, UsageError> {
        RedisArgs::default().resolve(Some(url.to_string()))
    }

    /// Connects and checks the server: exit 2 for what the user must fix (TLS trust,
    /// credentials, a Sentinel that knows no such master, a Cluster), 1 when unreachable.
    pub async fn connect(&self) -> anyhow::Result<Store> {
        Store::connect_target(&self.target)
            .await
            .map_err(|e| self.error(e))
    }

    /// Without a connection (the console starts while Redis is down).
    pub fn open(&self) -> anyhow::Result<Store> {
        Store::open(&self.target).map_err(|e| self.error(e))
    }

    fn error(&self, e: engine::Error) -> anyhow::Error {
        if e.kind() == engine::ErrorKind::Invalid {
            UsageError(e.to_string()).into()
        } else {
            anyhow::anyhow!("cannot connect to Redis at {}: {e}", self.shown())
        }
    }

    /// The URL, password hidden.
    pub fn shown(&self) -> &str {
        self.target.shown()
    }

    /// The same connection as arguments for a child `taskmill` (before the subcommand).
    pub fn to_args(&self) -> &[String] {
        &self.args
    }
}
