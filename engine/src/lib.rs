//! Taskmill's queue engine: reads and writes Python RQ 2.x's exact Redis schema, so Taskmill and
//! Python RQ producers, workers and dashboards can share one Redis.
//!
//! # Layout
//! - `keys`      — the only place key strings are built (RQ 2.12 layout, pinned by a test).
//! - `model`     — serde data model shared with the console's wasm half (no Redis).
//! - `value`     — `PyValue`, the display tree for decoded JSON and pickle payloads.
//! - `codec`     — zlib (bounded), Python-compatible JSON, a pure-Rust pickle *decoder*.
//! - `time`      — RQ's timestamp text format and unix-seconds helpers.
//! - `store`     — `Store`: a shared `ConnectionManager` plus dedicated blocking connections.
//! - `job`       — parse a job hash into `JobSummary` / `JobDetail`; fetch one job.
//! - `reply`     — tolerant conversions of raw Redis replies, shared by every read.
//! - `result`    — `rq:results:<id>` stream entries: read and encode.
//! - `queue`     — list queues, per-queue counts, paginated queue pages.
//! - `registry`  — the six registries: counts and paginated pages.
//! - `workers`   — read worker hashes (`rq:worker:<w>`) without mutating anything.
//! - `scripts`   — every Lua script of the crate, and the key table compiled into them.
//! - `snapshot`  — the one cached read behind the overview, live counters and `/metrics`.
//! - `groups`    — failure groups: fingerprints, the incremental index in `taskmill:fg:*`, reads.
//! - `enqueue`   — producing: enqueue, enqueue_many, enqueue_at/in, dependencies, retries.
//! - `actions`   — the operator vocabulary (`Action`, `perform`): one file per action, one atomic
//!   call each, typed outcomes, audited.
//! - `command`   — RQ's pub/sub worker commands (shutdown, kill-horse, stop-job) plus `scale`.
//! - `audit`     — capped audit log of operator actions, kept in Redis.
//! - `backend`   — the seam the console reads and acts through (`Backend`; `Rq` is RQ's).
//! - `scheduler` — due scheduled jobs → queues, under RQ's per-queue scheduler lock.
//! - `worker`    — the Taskmill worker: pool of slots, handlers, exec handlers, reaper, scheduler.
//! - `search`    — search: query language, sliced scan over lists / registries / `rq:job:*`,
//!   checked cursor.
//! - `limits`    — every bound on operator input (ids, names, slots, suspend), checked once.
//! - `error`     — the crate's error type and its kinds (`Error::kind`).
//! - `stats`     — history in `taskmill:stats:*`: counters, sampled gauges, function durations.
//! - `timeline`  — a job's timeline (enqueued, starts, outcomes, now) from what `job` read.
//! - `export`    — any paged job list as CSV / JSON / NDJSON chunks, page by page.
//! - `cron`      — periodic jobs from TOML: schedules, per-tick lock, RQ 2.12's cron keys.
//! - `pypool`    — supervised Python worker pools (`taskmill pool`): record, adoption, commands.
//! - `testing`   — test support: a private redis-server on a free port (tests only).
//! - `throttle`  — concurrency and rate limits (`--limits FILE.toml`): config, scripts, reads.
//! - `toml_file` — the line-and-reason refusals the TOML files (cron, limits) share.
//! - `chord`     — RQ groups with a callback enqueued once when every member has ended.
//! - `celery`    — Celery on Redis: queues, workers from events, task records, pidbox control.

pub mod codec;
pub mod cron;
pub mod groups;
pub mod keys;
#[cfg(feature = "runtime")]
pub mod limits;
pub mod model;
pub mod time;
pub mod value;

#[cfg(feature = "runtime")]
pub mod actions;
#[cfg(feature = "runtime")]
pub mod audit;
#[cfg(feature = "runtime")]
pub mod backend;
#[cfg(feature = "runtime")]
pub mod command;
#[cfg(feature = "runtime")]
pub mod enqueue;
#[cfg(feature = "runtime")]
pub mod error;
#[cfg(feature = "runtime")]
pub mod export;
#[cfg(feature = "runtime")]
pub mod job;
#[cfg(feature = "runtime")]
pub mod pypool;
#[cfg(feature = "runtime")]
pub mod queue;
#[cfg(feature = "runtime")]
pub mod registry;
#[cfg(feature = "runtime")]
pub mod reply;
#[cfg(feature = "runtime")]
pub mod result;
#[cfg(feature = "runtime")]
pub mod scheduler;
#[cfg(feature = "runtime")]
pub(crate) mod scripts;
#[cfg(feature = "runtime")]
pub mod search;
#[cfg(feature = "runtime")]
pub mod snapshot;
#[cfg(feature = "runtime")]
pub mod stats;
#[cfg(feature = "runtime")]
pub mod store;
#[cfg(feature = "runtime")]
#[doc(hidden)]
pub mod testing;
#[cfg(feature = "runtime")]
pub mod timeline;
#[cfg(feature = "runtime")]
pub mod worker;
#[cfg(feature = "runtime")]
pub mod workers;

#[cfg(feature = "runtime")]
pub use error::{Error, ErrorKind, Result};
#[cfg(feature = "runtime")]
pub use store::Store;
#[cfg(feature = "runtime")]
pub mod chord;
#[cfg(feature = "runtime")]
pub mod throttle;
#[cfg(feature = "runtime")]
pub mod toml_file;

/// Celery on Redis beside RQ (`celery::types` builds without the runtime).
pub mod celery;
