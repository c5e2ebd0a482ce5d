//! Engine integration tests against a real redis-server on a free port (see `support`).
//! One test binary for the whole crate keeps link time down; one module per area.

mod support;
mod enqueue;
mod actions;
mod worker;
mod read;
mod codec_props;
mod fixture;
mod read_lists;
