//! Cron: "run now" enqueues a cron job's job outside its schedule (`run-cron`, audited).

use leptos::prelude::*;

/// Enqueue the named cron job's job now.
#[server(prefix = "/ui", endpoint = "run-cron")]
pub async fn run_cron(
    #[server(default)] name: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::{Action, Outcome};
    let shown = name.clone();
    crate::actions::act(Ok(Action::RunCron { name }), &return_to, move |o| match o {
        Outcome::Enqueued { id } => Ok(format!("Enqueued cron job {shown} now: job {id}.")),
        other => Err(crate::error::PageError::Internal(format!(
            "unexpected outcome {other:?}"
        ))),
    })
    .await
}
