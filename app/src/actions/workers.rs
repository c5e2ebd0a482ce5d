//! Worker commands (RQ pub/sub) and the global suspend switch.

use leptos::prelude::*;

/// Warm shutdown of the worker (for a Taskmill pool: the whole process).
#[server(prefix = "/ui", endpoint = "shutdown")]
pub async fn shutdown_worker(
    #[server(default)] worker: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let name = worker.clone();
    ssr::sent(
        Ok(engine::actions::Action::Shutdown { worker }),
        &return_to,
        move |note| format!("Shutdown sent to {name}.{note}"),
    )
    .await
}

/// Abort the job the worker is running right now.
#[server(prefix = "/ui", endpoint = "kill-horse")]
pub async fn kill_horse(
    #[server(default)] worker: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let name = worker.clone();
    ssr::sent(
        Ok(engine::actions::Action::KillHorse { worker }),
        &return_to,
        move |note| format!("Kill-horse sent to {name}.{note}"),
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
    use crate::error::PageError;
    let name = worker.clone();
    let action = match crate::actions::number("The slot count", &slots) {
        Ok(Some(slots)) => Ok(engine::actions::Action::Scale { worker, slots }),
        Ok(None) => Err(PageError::BadRequest("Enter a slot count.".into())),
        Err(e) => Err(e),
    };
    let n = slots.trim().to_string();
    ssr::sent(action, &return_to, move |note| {
        format!("Scale to {n} sent to {name}.{note}")
    })
    .await
}

/// Suspend all workers; an empty `duration` (seconds) means until resumed.
#[server(prefix = "/ui", endpoint = "suspend")]
pub async fn suspend_workers(
    #[server(default)] duration: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use engine::actions::Action;
    let secs = crate::actions::number("The duration", &duration);
    let action = secs.clone().map(|secs| Action::Suspend { secs });
    crate::actions::act(action, &return_to, move |_| {
        Ok(match secs {
            Ok(Some(s)) => format!("Workers suspended for {}.", crate::format::age(s as f64)),
            _ => "Workers suspended until resumed.".into(),
        })
    })
    .await
}

#[server(prefix = "/ui", endpoint = "resume")]
pub async fn resume_workers(#[server(default)] return_to: String) -> Result<(), ServerFnError> {
    crate::actions::act(Ok(engine::actions::Action::Resume), &return_to, |_| {
        Ok("Workers resumed.".into())
    })
    .await
}

#[cfg(feature = "ssr")]
mod ssr {
    use engine::actions::{Action, Outcome};
    use leptos::prelude::ServerFnError;

    use crate::error::PageError;

    /// A pub/sub command: the flash says when nobody was listening.
    pub async fn sent(
        action: Result<Action, PageError>,
        return_to: &str,
        say: impl FnOnce(&str) -> String,
    ) -> Result<(), ServerFnError> {
        crate::actions::act(action, return_to, |outcome| match outcome {
            Outcome::Sent { receivers: 0 } => {
                Ok(say(" No worker process is listening (it may be gone)."))
            }
            Outcome::Sent { .. } => Ok(say("")),
            other => Err(PageError::Internal(format!("unexpected outcome {other:?}"))),
        })
        .await
    }
}
