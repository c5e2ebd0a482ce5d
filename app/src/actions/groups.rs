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

/// Retry every failed task of one Celery failure group (each re-published as `celery-retry`
/// does; tasks whose original message is unknown are counted as skipped).
#[server(prefix = "/ui", endpoint = "celery-retry-group")]
pub async fn celery_retry_group(
    #[server(default)] fingerprint: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::{Action, Outcome};
    let action =
        crate::actions::queues::confirmed(&expected).map(|expected| Action::CeleryRetryGroup {
            fingerprint,
            expected,
        });
    crate::actions::act(action, &return_to, |outcome| match outcome {
        Outcome::Jobs(o) => {
            let mut say = format!("Retried {}.", crate::actions::plural(o.count(), "task"));
            if !o.skipped.is_empty() {
                say.push_str(&format!(
                    " Skipped {} (original message unknown).",
                    crate::actions::plural(o.skipped.len() as u64, "task")
                ));
            }
            Ok(say)
        }
        other => Err(crate::error::PageError::Internal(format!(
            "unexpected outcome {other:?}"
        ))),
    })
    .await
}
