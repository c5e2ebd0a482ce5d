//! Engine integration tests against a real redis-server on a free port (see `support`).
//! One test binary for the whole crate keeps link time down; one module per area.

mod actions;
mod celery;
mod celery_history;
mod celery_workers;
mod codec_props;
mod cron;
mod enqueue;
mod failed_pages;
mod fixture;
mod groups;
mod read;
mod read_lists;
mod search;
mod stats;
mod support;
mod throttle;
mod worker;
