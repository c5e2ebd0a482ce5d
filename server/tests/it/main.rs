//! Server integration tests: the whole router (pages, API, metrics, security) over a real
//! redis-server on a free port (see `redis`), driven with `tower::ServiceExt::oneshot`.

mod api;
mod celery;
mod celery_same;
mod celery_ui;
mod chaos;
mod chords;
mod cli;
mod cron_pool;
mod demo;
mod errors;
mod events;
mod groups;
mod instances;
mod limits;
mod metrics;
mod openapi;
mod pages;
mod prefix;
mod props;
mod redis;
mod redis_restart;
mod roles;
mod search;
mod security;
mod stats;
mod support;
mod ui;
mod views;
mod vocabulary;

/// Repository root (for `.venv` and `tests/interop`).
pub fn support_repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
