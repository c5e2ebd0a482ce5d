//! Actions on selected jobs. The form sends `ids[0]=..&ids[1]=..` (checkboxes, or one row's
//! button) plus `return_to`.

use leptos::prelude::*;

#[server(prefix = "/ui", endpoint = "requeue")]
pub async fn requeue_jobs(
    #[server(default)] ids: Vec<String>,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::jobs_action(crate::actions::run::JobsVerb::Requeue, ids, &return_to).await
}

#[server(prefix = "/ui", endpoint = "delete")]
pub async fn delete_jobs(
    #[server(default)] ids: Vec<String>,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::jobs_action(crate::actions::run::JobsVerb::Delete, ids, &return_to).await
}

#[server(prefix = "/ui", endpoint = "cancel")]
pub async fn cancel_jobs(
    #[server(default)] ids: Vec<String>,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::jobs_action(crate::actions::run::JobsVerb::Cancel, ids, &return_to).await
}

#[server(prefix = "/ui", endpoint = "enqueue-now")]
pub async fn enqueue_now_jobs(
    #[server(default)] ids: Vec<String>,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::jobs_action(crate::actions::run::JobsVerb::EnqueueNow, ids, &return_to)
        .await
}

/// Sends RQ's `stop-job` command to the worker running `id`.
#[server(prefix = "/ui", endpoint = "stop")]
pub async fn stop_job(
    #[server(default)] id: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::stop_job(id, &return_to).await
}
