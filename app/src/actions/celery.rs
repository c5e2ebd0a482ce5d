//! Celery actions as `/ui/celery-*` server functions: form fields into a `celery-*`
//! `engine::actions::Action`, the outcome (each worker's reply) into a flash message.

use leptos::prelude::*;

/// Revoke a task; `terminate` (a checkbox: "on") also kills it if running, with `signal`.
#[server(prefix = "/ui", endpoint = "celery-revoke")]
pub async fn celery_revoke(
    #[server(default)] id: String,
    #[server(default)] terminate: String,
    #[server(default)] signal: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let signal = Some(signal.trim().to_string()).filter(|s| !s.is_empty());
    let action = engine::actions::Action::CeleryRevoke {
        id: id.clone(),
        terminate: !terminate.is_empty(),
        signal,
    };
    ssr::replied(action, &return_to, format!("Revoke of {id}")).await
}

/// Re-publish a failed task's original message.
#[server(prefix = "/ui", endpoint = "celery-retry")]
pub async fn celery_retry(
    #[server(default)] id: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let action = engine::actions::Action::CeleryRetry { id: id.clone() };
    ssr::replied(action, &return_to, format!("Retry of {id}")).await
}

/// Grow (`op` = grow) or shrink a worker's pool by one process.
#[server(prefix = "/ui", endpoint = "celery-pool")]
pub async fn celery_pool(
    #[server(default)] worker: String,
    #[server(default)] op: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let action = if op == "shrink" {
        engine::actions::Action::CeleryPoolShrink {
            worker: worker.clone(),
            n: 1,
        }
    } else {
        engine::actions::Action::CeleryPoolGrow {
            worker: worker.clone(),
            n: 1,
        }
    };
    ssr::replied(action, &return_to, format!("Pool {op} of {worker}")).await
}

/// Warm shutdown of a Celery worker.
#[server(prefix = "/ui", endpoint = "celery-shutdown")]
pub async fn celery_shutdown(
    #[server(default)] worker: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let action = engine::actions::Action::CeleryShutdown {
        worker: worker.clone(),
    };
    ssr::replied(action, &return_to, format!("Shutdown of {worker}")).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use engine::actions::{Action, Outcome};
    use leptos::prelude::*;

    /// Runs `action`; the flash lists each worker's reply.
    pub(super) async fn replied(
        action: Action,
        return_to: &str,
        what: String,
    ) -> Result<(), ServerFnError> {
        crate::actions::act(Ok(action), return_to, move |o| {
            Ok(match o {
                Outcome::Replies { replies } => {
                    let each: Vec<String> =
                        replies.iter().map(|(n, r)| format!("{n}: {r}")).collect();
                    format!("{what}: {}", each.join("; "))
                }
                Outcome::Sent { receivers } => {
                    format!("{what} sent ({receivers} listening).")
                }
                Outcome::Enqueued { id } => format!("{what}: {id} re-published."),
                _ => format!("{what} done."),
            })
        })
        .await
    }
}
