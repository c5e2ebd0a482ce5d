//! Taskmill console: Leptos pages, components and server functions.
//!
//! # Layout
//! - `state`      — (ssr) `Console`: the Store, read-only flag and the shared snapshot cache.

#[cfg(feature = "ssr")]
pub mod state;
