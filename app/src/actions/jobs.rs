//! Actions on selected jobs. The form sends `ids[0]=..&ids[1]=..` (checkboxes, or one row's
//! button) plus `return_to`.

use leptos::prelude::*;

#[server(prefix = "/ui", endpoint = "requeue")]
pub async fn requeue_jobs(
    #[server(default)] ids: Vec<String>,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    ssr::on_jobs(
        engine::actions::Action::Requeue {
            ids: ssr::selection(ids),
        },
        "Requeued",
        &return_to,
    )
    .await
}

#[server(prefix = "/ui", endpoint = "delete")]
pub async fn delete_jobs(
    #[server(default)] ids: Vec<String>,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    ssr::on_jobs(
        engine::actions::Action::Delete {
            ids: ssr::selection(ids),
        },
        "Deleted",
        &return_to,
    )
    .await
}

#[server(prefix = "/ui", endpoint = "cancel")]
pub async fn cancel_jobs(
    #[server(default)] ids: Vec<String>,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    ssr::on_jobs(
        engine::actions::Action::Cancel {
            ids: ssr::selection(ids),
        },
        "Canceled",
        &return_to,
    )
    .await
}

#[server(prefix = "/ui", endpoint = "enqueue-now")]
pub async fn enqueue_now_jobs(
    #[server(default)] ids: Vec<String>,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    ssr::on_jobs(
        engine::actions::Action::EnqueueNow {
            ids: ssr::selection(ids),
        },
        "Enqueued",
        &return_to,
    )
    .await
}

/// Sends RQ's `stop-job` command to the worker running `id`.
#[server(prefix = "/ui", endpoint = "stop")]
pub async fn stop_job(
    #[server(default)] id: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use crate::error::PageError;
    use engine::actions::{stop::StopOutcome, Action, Outcome};
    let job = id.clone();
    crate::actions::act(
        Ok(Action::Stop { id }),
        &return_to,
        |outcome| match outcome {
            Outcome::Stop(StopOutcome::Sent {
                worker,
                receivers: 0,
            }) => Ok(format!(
                "Stop sent to {worker}, but no worker process is listening."
            )),
            Outcome::Stop(StopOutcome::Sent { worker, .. }) => {
                Ok(format!("Stop sent to {worker}."))
            }
            Outcome::Stop(StopOutcome::NotRunning { status }) => Err(PageError::BadRequest(
                format!("Job {job} is not running (status: {status})."),
            )),
            other => Err(PageError::Internal(format!("unexpected outcome {other:?}"))),
        },
    )
    .await
}

#[cfg(feature = "ssr")]
mod ssr {
    use engine::actions::{Action, JobsOutcome, Outcome};
    use leptos::prelude::ServerFnError;

    use crate::actions::{act, plural};
    use crate::error::PageError;

    /// Checked rows, without blanks and repeats.
    pub fn selection(mut ids: Vec<String>) -> Vec<String> {
        ids.retain(|id| !id.is_empty());
        ids.dedup();
        ids
    }

    /// A per-id action; refused when it changed nothing and skipped something.
    pub async fn on_jobs(action: Action, verb: &str, return_to: &str) -> Result<(), ServerFnError> {
        let action = match &action {
            Action::Requeue { ids }
            | Action::Delete { ids }
            | Action::Cancel { ids }
            | Action::EnqueueNow { ids }
                if ids.is_empty() =>
            {
                Err(PageError::BadRequest("No jobs selected.".into()))
            }
            _ => Ok(action),
        };
        act(action, return_to, |outcome| match outcome {
            Outcome::Jobs(o) if o.count() == 0 && !o.skipped.is_empty() => {
                Err(PageError::BadRequest(message(verb, o)))
            }
            Outcome::Jobs(o) => Ok(message(verb, o)),
            other => Err(PageError::Internal(format!("unexpected outcome {other:?}"))),
        })
        .await
    }

    fn message(verb: &str, outcome: &JobsOutcome) -> String {
        let mut msg = format!("{verb} {}.", plural(outcome.count(), "job"));
        if !outcome.skipped.is_empty() {
            let mut reasons: Vec<&str> =
                outcome.skipped.iter().map(|s| s.reason.as_str()).collect();
            reasons.sort_unstable();
            reasons.dedup();
            msg.push_str(&format!(
                " Skipped {} ({}).",
                outcome.skipped.len(),
                reasons.join(", ").replace('_', " ")
            ));
        }
        msg
    }
}
