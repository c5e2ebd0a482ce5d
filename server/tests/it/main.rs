//! Server integration tests: the whole router (pages, API, metrics, security) over a real
//! redis-server on a free port (see `redis`), driven with `tower::ServiceExt::oneshot`.

mod api;
mod chaos;
mod cli;
mod demo;
mod errors;
mod events;
mod groups;
mod metrics;
mod pages;
mod props;
mod redis;
mod redis_restart;
mod security;
mod stats;
mod support;
mod ui;
mod vocabulary;
