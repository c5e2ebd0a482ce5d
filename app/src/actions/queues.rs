//! Bulk queue actions. Each form carries the `expected` count the operator confirmed; the server
//! refuses when the live count differs, so "Requeue 1,234 failed jobs?" means exactly that.

use leptos::prelude::*;

/// Requeue every failed job of one queue.
#[server(prefix = "/ui", endpoint = "requeue-queue")]
pub async fn requeue_queue(
    #[server(default)] queue: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::requeue_queue(queue, &expected, &return_to).await
}

/// Requeue every failed job of every queue.
#[server(prefix = "/ui", endpoint = "requeue-all")]
pub async fn requeue_all(
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::requeue_all(&expected, &return_to).await
}

/// Remove every queued job of one queue (and delete those jobs).
#[server(prefix = "/ui", endpoint = "empty")]
pub async fn empty_queue(
    #[server(default)] queue: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::empty_queue(queue, &expected, &return_to).await
}
