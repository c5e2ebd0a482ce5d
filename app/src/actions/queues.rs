//! Bulk queue actions. Each form carries the `expected` count the operator confirmed; the engine
//! refuses when the live count differs, so "Requeue 1,234 failed jobs?" means exactly that.

use leptos::prelude::*;

/// Requeue every failed job of one queue.
#[server(prefix = "/ui", endpoint = "requeue-queue")]
pub async fn requeue_queue(
    #[server(default)] queue: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let name = queue.clone();
    let action = ssr::confirmed(&expected).map(|expected| Action::RequeueQueue { queue, expected });
    ssr::moved(action, &return_to, move |n| {
        format!(
            "Requeued {} from {name}.",
            crate::actions::plural(n, "failed job")
        )
    })
    .await
}

/// Requeue every failed job of every queue.
#[server(prefix = "/ui", endpoint = "requeue-all")]
pub async fn requeue_all(
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let action = ssr::confirmed(&expected).map(|expected| Action::RequeueAll { expected });
    ssr::moved(action, &return_to, |n| {
        format!("Requeued {}.", crate::actions::plural(n, "failed job"))
    })
    .await
}

/// Remove every queued job of one queue (and delete those jobs).
#[server(prefix = "/ui", endpoint = "empty")]
pub async fn empty_queue(
    #[server(default)] queue: String,
    #[server(default)] expected: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let name = queue.clone();
    let action = ssr::confirmed(&expected).map(|expected| Action::Empty { queue, expected });
    ssr::moved(action, &return_to, move |n| {
        format!(
            "Emptied {name}: removed {}.",
            crate::actions::plural(n, "job")
        )
    })
    .await
}

#[cfg(feature = "ssr")]
pub(crate) use ssr::{confirmed, moved};

#[cfg(feature = "ssr")]
mod ssr {
    use engine::actions::{Action, Outcome};
    use leptos::prelude::ServerFnError;

    use crate::error::PageError;

    /// The count the operator confirmed: the forms always send one.
    pub fn confirmed(expected: &str) -> Result<Option<u64>, PageError> {
        match crate::actions::number("The confirmed count", expected) {
            Ok(Some(n)) => Ok(Some(n)),
            _ => Err(PageError::BadRequest(
                "Missing confirmation count; confirm the action again.".into(),
            )),
        }
    }

    pub async fn moved(
        action: Result<Action, PageError>,
        return_to: &str,
        say: impl FnOnce(u64) -> String,
    ) -> Result<(), ServerFnError> {
        crate::actions::act(action, return_to, |outcome| match outcome {
            Outcome::Moved { count } => Ok(say(*count)),
            other => Err(PageError::Internal(format!("unexpected outcome {other:?}"))),
        })
        .await
    }
}
