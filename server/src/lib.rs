//! The `taskmill` binary's library half (so integration tests can build the router).
//!
//! # Layout
//! - `cli`          — clap definitions, tracing setup, dispatch.
//! - `args`         — option groups shared by subcommands (lease timings; bind + site root).
//! - `process`      — (leaf) default Redis URL, usage errors and exit code 2, signals.
//! - `serve`        — `taskmill serve`: `router(console, cfg)` (pages, `/ui`, API, metrics).
//! - `instances`    — several Redis in one console: `/i/NAME/...` dispatch, labelled `/metrics`.
//! - `security`     — auth + `Principal` + role, read-only, body limit, response headers.
//! - `origin`       — cross-site refusal of mutations (Fetch Metadata, trusted origins, Host).
//! - `prefix`       — `--url-prefix`: the outermost layer, browser paths → app paths.
//! - `strip`        — removes leptos_axum's appended inline data scripts from HTML pages.
//! - `site`         — the static site embedded by build.rs: hashed names, gzip / brotli.
//! - `throttle`     — failed logins per client and user: slowed, then 429 with Retry-After.
//! - `error`        — the API's `{code, message}` errors and their one status table.
//! - `extract`      — extractors with JSON rejections; id / paging validation.
//! - `api/`         — `/api/v1`: reads, and actions translated into `engine::actions::Action`.
//! - `celery_args`  — `serve`'s `--celery-*` flags: the Celery handle and its event task.
//! - `metrics`      — `/metrics` in Prometheus text from one cached snapshot.
//! - `metrics_celery` — `/metrics`' Celery part: Flower's metric names, Celery queue depths.
//! - `worker_cmd`   — `taskmill worker` with two-stage signal shutdown.
//! - `info`         — `taskmill info`, like `rq info`.
//! - `ops`          — one-shot operator commands (enqueue, job, requeue, stop, ...).
//! - `demo`         — `taskmill demo`: Redis + console + worker + traffic in one process.
//! - `demo_traffic` — the demo's handlers and traffic generator.
//! - `demo_celery`  — the demo's Celery side: a real Celery worker and its traffic (Python).
//! - `redis_child`  — the demo's private `redis-server` guard.
//! - `chaos`        — `taskmill chaos`: SIGKILL workers mid-run and verify nothing is lost.
//! - `redis_args`   — global connection flags (TLS, Sentinel, RQ's env names) → `Redis`.
//! - `config`       — `--config taskmill.toml` and `TASKMILL_<FLAG>` for every flag.
//! - `password`     — `[[serve.users]]` argon2 hashes, verified once per credential.
//! - `access_log`   — one log line per request (method, path, status, ms, principal).
//! - `chord_cmd`    — `taskmill chord create|show`: chords (groups with a callback).
//! - `cron_cmd`     — `taskmill cron`, `worker --cron`, `run-cron`: cron files and the loop.
//! - `pool/`        — `taskmill pool`: supervised Python worker processes.

pub mod access_log;
pub mod api;
pub mod args;
pub mod celery_args;
pub mod chaos;
pub mod chord_cmd;
pub mod cli;
pub mod config;
pub mod cron_cmd;
pub mod demo;
pub mod demo_celery;
pub mod demo_traffic;
pub mod error;
pub mod extract;
pub mod info;
pub mod instances;
pub mod metrics;
pub mod metrics_celery;
pub mod ops;
pub mod origin;
pub mod password;
pub mod pool;
pub mod prefix;
pub mod process;
pub mod redis_args;
pub mod redis_child;
pub mod security;
pub mod serve;
pub mod site;
pub mod strip;
pub mod throttle;
pub mod worker_cmd;
