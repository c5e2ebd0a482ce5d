//! Worker commands (RQ pub/sub) and the global suspend switch.

use leptos::prelude::*;

/// Warm shutdown of the worker (for a Taskmill pool: the whole process).
#[server(prefix = "/ui", endpoint = "shutdown")]
pub async fn shutdown_worker(
    #[server(default)] worker: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::worker_command(
        crate::actions::run::WorkerVerb::Shutdown,
        worker,
        &return_to,
    )
    .await
}

/// Abort the job the worker is running right now.
#[server(prefix = "/ui", endpoint = "kill-horse")]
pub async fn kill_horse(
    #[server(default)] worker: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::worker_command(
        crate::actions::run::WorkerVerb::KillHorse,
        worker,
        &return_to,
    )
    .await
}

/// Set a Taskmill pool's slot count; `worker` is any slot of the pool. `slots` is text so a
/// non-number comes back as a clear message instead of a form decoding error.
#[server(prefix = "/ui", endpoint = "scale")]
pub async fn scale_workers(
    #[server(default)] worker: String,
    #[server(default)] slots: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::scale(worker, &slots, &return_to).await
}

/// Suspend all workers; an empty `duration` (seconds) means until resumed.
#[server(prefix = "/ui", endpoint = "suspend")]
pub async fn suspend_workers(
    #[server(default)] duration: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    crate::actions::run::suspend(&duration, &return_to).await
}

#[server(prefix = "/ui", endpoint = "resume")]
pub async fn resume_workers(#[server(default)] return_to: String) -> Result<(), ServerFnError> {
    crate::actions::run::resume(&return_to).await
}
