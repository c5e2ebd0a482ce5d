//! Render tests for the console against a real redis-server (one binary; see support.rs).
//! Each test fills a fresh database with RQ-shaped keys, renders a page to HTML the way
//! leptos_axum does (SsrMode::Async → in-order stream), and checks content and status.

mod actions;
mod charts;
mod groups;
mod pages;
mod snapshot;
mod support;
mod views;
mod xss;
