//! Operator actions as server functions under `/ui/<endpoint>`, posted by plain HTML forms.
//!
//! Every action has the same shape: refuse when the console is read-only, validate the input,
//! call one engine action, write an audit record, drop the cached snapshot, and redirect the
//! browser back to `return_to` with a flash message (`?ok=` or `?err=`). The bodies live in
//! `run` (server only) so the wasm build only carries the client stubs.
//!
//! - `jobs`    — requeue / delete / cancel / enqueue-now for selected ids, stop one job.
//! - `queues`  — requeue a queue's failed jobs, requeue all failed, empty a queue.
//! - `workers` — shutdown, kill-horse, scale, suspend / resume.

pub mod jobs;
pub mod queues;
#[cfg(feature = "ssr")]
pub mod run;
pub mod workers;

pub use jobs::{CancelJobs, DeleteJobs, EnqueueNowJobs, RequeueJobs, StopJob};
pub use queues::{EmptyQueue, RequeueAll, RequeueQueue};
pub use workers::{KillHorse, ResumeWorkers, ScaleWorkers, ShutdownWorker, SuspendWorkers};

/// Most ids one selection action accepts (a page holds at most 100 rows).
pub const MAX_SELECTION: usize = 500;
/// Longest suspension accepted from the form, in seconds (30 days).
pub const MAX_SUSPEND_SECS: u64 = 30 * 86_400;
