//! Failure-group actions: requeue or delete every failure of one group. Like the queue bulk
//! actions, each form carries the exact count the operator confirmed (`expected`); the engine
//! refuses as a conflict if the group's live count differs.

use leptos::prelude::*;

/// Requeue every failed job of one failure group.
#[server(prefix = "/ui", endpoint = "requeue-group")]
pub async fn requeue_group(
    #[server(default)] fingerprint: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let action =
        crate::actions::queues::confirmed(&expected).map(|expected| Action::RequeueGroup {
            fingerprint,
            expected,
        });
    crate::actions::queues::moved(action, &return_to, |n| {
        format!("Requeued {}.", crate::actions::plural(n, "failed job"))
    })
    .await
}

/// Delete every failed job of one failure group (and their keys).
#[server(prefix = "/ui", endpoint = "delete-group")]
pub async fn delete_group(
    #[server(default)] fingerprint: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let action = crate::actions::queues::confirmed(&expected).map(|expected| Action::DeleteGroup {
        fingerprint,
        expected,
    });
    crate::actions::queues::moved(action, &return_to, |n| {
        format!("Deleted {}.", crate::actions::plural(n, "failed job"))
    })
    .await
}
