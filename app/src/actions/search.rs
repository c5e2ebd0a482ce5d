//! Search bulk actions: requeue, delete or cancel every job a search matches. Like the queue
//! and failure-group bulk actions, each form carries the exact count the operator confirmed
//! (`expected`); the engine re-runs the search and refuses as a conflict if the count differs.

use leptos::prelude::*;

/// Requeue the failed jobs among a search's matches.
#[server(prefix = "/ui", endpoint = "requeue-search")]
pub async fn requeue_search(
    #[server(default)] q: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let action = crate::actions::queues::confirmed(&expected)
        .map(|expected| Action::RequeueSearch { query: q, expected });
    crate::actions::queues::moved(action, &return_to, |n| {
        format!("Requeued {}.", crate::actions::plural(n, "job"))
    })
    .await
}

/// Delete every job a search matches (and their keys).
#[server(prefix = "/ui", endpoint = "delete-search")]
pub async fn delete_search(
    #[server(default)] q: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let action = crate::actions::queues::confirmed(&expected)
        .map(|expected| Action::DeleteSearch { query: q, expected });
    crate::actions::queues::moved(action, &return_to, |n| {
        format!("Deleted {}.", crate::actions::plural(n, "job"))
    })
    .await
}

/// Cancel the queued, deferred and scheduled jobs among a search's matches.
#[server(prefix = "/ui", endpoint = "cancel-search")]
pub async fn cancel_search(
    #[server(default)] q: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let action = crate::actions::queues::confirmed(&expected)
        .map(|expected| Action::CancelSearch { query: q, expected });
    crate::actions::queues::moved(action, &return_to, |n| {
        format!("Canceled {}.", crate::actions::plural(n, "job"))
    })
    .await
}
