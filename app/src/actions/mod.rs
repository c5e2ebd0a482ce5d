//! Operator actions as server functions under `/ui/<endpoint>`, posted by plain HTML forms.
//!
//! Each server function only translates: form fields into an `engine::actions::Action`, and the
//! `Outcome` (or refusal) into a flash message on the page it came from. What an action checks,
//! does and records is the engine's (`engine::actions::perform`, through `Console::perform`).
//!
//! - `jobs`    — requeue / delete / cancel / enqueue-now for selected ids, stop one job.
//! - `queues`  — requeue a queue's failed jobs, requeue all failed, empty a queue.
//! - `groups`  — requeue / delete every failure of one failure group; retry a Celery group.
//! - `workers` — shutdown, kill-horse, scale, suspend / resume.
//! - `search`  — requeue / delete / cancel every match of a search.
//! - `cron`    — run a cron job now.
//! - `celery`  — Celery revoke, retry, pool grow / shrink, autoscale, rate / time limit,
//!   add / cancel consumer, pool restart, shutdown.

pub mod celery;
pub mod cron;
pub mod groups;
pub mod jobs;
pub mod queues;
pub mod search;
pub mod workers;

pub use celery::{
    CeleryAutoscale, CeleryConsumer, CeleryPool, CeleryPoolRestart, CeleryRateLimit, CeleryRetry,
    CeleryRevoke, CeleryShutdown, CeleryTimeLimit,
};
pub use cron::RunCron;
pub use groups::{CeleryRetryGroup, DeleteGroup, RequeueGroup};
pub use jobs::{CancelJobs, DeleteJobs, EnqueueNowJobs, RequeueJobs, StopJob};
pub use queues::{EmptyQueue, RequeueAll, RequeueQueue};
pub use search::{CancelSearch, DeleteSearch, RequeueSearch};
pub use workers::{KillHorse, ResumeWorkers, ScaleWorkers, ShutdownWorker, SuspendWorkers};

#[cfg(feature = "ssr")]
pub(crate) use ssr::{act, number, plural};

#[cfg(feature = "ssr")]
mod ssr {
    use engine::actions::{Action, Outcome};
    use leptos::prelude::*;

    use crate::components::flash::with_flash;
    use crate::error::PageError;
    use crate::format;

    /// Performs `action` and redirects back to `return_to` with the flash `describe` writes
    /// for its outcome, or with the refusal (and its status). `describe` may still refuse an
    /// outcome that did nothing the operator asked for (e.g. a stop for a job not running).
    pub(crate) async fn act(
        action: Result<Action, PageError>,
        return_to: &str,
        describe: impl FnOnce(&Outcome) -> Result<String, PageError>,
    ) -> Result<(), ServerFnError> {
        let console = use_context::<std::sync::Arc<crate::state::Console>>()
            .ok_or_else(|| ServerFnError::new("server misconfigured: no Console in context"))?;
        let done = match action {
            Ok(action) => match console.perform(action, &crate::auth::current()).await {
                Ok(outcome) => describe(&outcome),
                Err(refused) => Err(refused.into()),
            },
            Err(e) => Err(e),
        };
        match done {
            Ok(message) => {
                leptos_axum::redirect(&crate::url::href(&with_flash(return_to, "ok", &message)));
                Ok(())
            }
            Err(e) => {
                let message = e.message();
                crate::error::set_status(e.status());
                leptos_axum::redirect(&crate::url::href(&with_flash(return_to, "err", &message)));
                Err(ServerFnError::new(message))
            }
        }
    }

    /// A whole number typed into a form field (empty = `None`).
    pub(crate) fn number(field: &str, text: &str) -> Result<Option<u64>, PageError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            PageError::BadRequest(format!("{field} must be a whole number, not {text:?}."))
        })
    }

    pub(crate) fn plural(n: u64, one: &str) -> String {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{} {one}s", format::count(n))
        }
    }
}
