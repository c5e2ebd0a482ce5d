//! Server-side bodies of the `/ui` actions (see `actions` for the shared shape).

use std::sync::Arc;

use engine::actions::Outcome;
use engine::model::AuditEntry;
use leptos::prelude::*;

use crate::format;
use crate::state::Console;

/// Why an action did nothing. Shown to the operator verbatim in the flash message.
#[derive(Debug)]
pub enum Refusal {
    ReadOnly,
    Invalid(String),
    NotFound(String),
    /// The live count differs from the count the operator confirmed.
    Changed(String),
    Engine(engine::Error),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::ReadOnly => f.write_str("This console is read-only: actions are disabled."),
            Refusal::Invalid(m) | Refusal::NotFound(m) | Refusal::Changed(m) => f.write_str(m),
            Refusal::Engine(e) if is_unreachable(e) => {
                write!(f, "Redis unreachable, nothing was changed: {e}")
            }
            Refusal::Engine(e) => write!(f, "Action failed: {e}"),
        }
    }
}

impl From<engine::Error> for Refusal {
    fn from(e: engine::Error) -> Self {
        match e {
            engine::Error::InvalidJobId(_)
            | engine::Error::InvalidQueueName(_)
            | engine::Error::Invalid(_) => Refusal::Invalid(e.to_string()),
            other => Refusal::Engine(other),
        }
    }
}

/// Connection-level Redis failures (as opposed to a script or data error).
pub fn is_unreachable(e: &engine::Error) -> bool {
    match e {
        engine::Error::Redis(r) => {
            r.is_io_error()
                || r.is_timeout()
                || r.is_connection_refusal()
                || r.is_connection_dropped()
        }
        _ => false,
    }
}

/// What a successful action reports: the flash text and the audit record's target and count.
pub struct Done {
    pub message: String,
    pub target: String,
    pub count: u64,
}

fn console() -> Result<Arc<Console>, ServerFnError> {
    use_context::<Arc<Console>>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: no Console in context"))
}

/// The shared tail of every action: read-only gate, run, audit, invalidate, redirect + flash.
async fn act<F, Fut>(action: &str, return_to: &str, body: F) -> Result<(), ServerFnError>
where
    F: FnOnce(Arc<Console>) -> Fut,
    Fut: std::future::Future<Output = Result<Done, Refusal>>,
{
    let console = console()?;
    let outcome = if console.read_only {
        Err(Refusal::ReadOnly)
    } else {
        body(console.clone()).await
    };
    match outcome {
        Ok(done) => {
            let entry = AuditEntry {
                at: engine::time::now(),
                who: crate::auth::current(),
                action: action.to_string(),
                target: done.target,
                count: done.count,
            };
            // The action already happened; a failed audit write must not report it as failed.
            if let Err(e) = engine::audit::record(&console.store, &entry).await {
                tracing::warn!(action, error = %e, "could not write the audit record");
            }
            console.invalidate().await;
            leptos_axum::redirect(&with_flash(return_to, "ok", &done.message));
            Ok(())
        }
        Err(refusal) => {
            let message = refusal.to_string();
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(match refusal {
                    Refusal::ReadOnly => axum::http::StatusCode::FORBIDDEN,
                    Refusal::NotFound(_) => axum::http::StatusCode::NOT_FOUND,
                    Refusal::Changed(_) => axum::http::StatusCode::CONFLICT,
                    Refusal::Engine(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    Refusal::Invalid(_) => axum::http::StatusCode::BAD_REQUEST,
                });
            }
            leptos_axum::redirect(&with_flash(return_to, "err", &message));
            Err(ServerFnError::new(message))
        }
    }
}

/// `return_to` if it is a local path (no open redirect), minus earlier flash / confirm
/// parameters, plus `key=value`.
pub fn with_flash(return_to: &str, key: &str, value: &str) -> String {
    let local = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.contains('\\')
        && !return_to.chars().any(|c| c.is_control());
    let base = if local { return_to } else { "/" };
    let (path, query) = base.split_once('?').unwrap_or((base, ""));
    let path = path.split('#').next().unwrap_or("/");
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !pair.is_empty() && !matches!(name, "ok" | "err" | "confirm" | "__err" | "__path")
        })
        .collect();
    let flash = format!("{key}={}", format::url_part(value));
    kept.push(&flash);
    format!("{path}?{}", kept.join("&"))
}

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {one}s", format::count(n))
    }
}

fn validate_ids(ids: &[String]) -> Result<(), Refusal> {
    if ids.is_empty() {
        return Err(Refusal::Invalid("No jobs selected.".into()));
    }
    if ids.len() > super::MAX_SELECTION {
        return Err(Refusal::Invalid(format!(
            "Too many jobs selected ({}); at most {} per action.",
            ids.len(),
            super::MAX_SELECTION
        )));
    }
    for id in ids {
        engine::error::validate_job_id(id)?;
    }
    Ok(())
}

/// Audit target for a set of ids: the first few, then how many more.
fn ids_target(ids: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut t = ids
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    if ids.len() > SHOWN {
        t.push_str(&format!(" (+{} more)", ids.len() - SHOWN));
    }
    t
}

fn outcome_message(verb: &str, outcome: &Outcome) -> String {
    let mut msg = format!("{verb} {}.", plural(outcome.count(), "job"));
    if !outcome.skipped.is_empty() {
        let mut reasons: Vec<&str> = outcome.skipped.iter().map(|s| s.reason.as_str()).collect();
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

#[derive(Clone, Copy, Debug)]
pub enum JobsVerb {
    Requeue,
    Delete,
    Cancel,
    EnqueueNow,
}

pub async fn jobs_action(
    verb: JobsVerb,
    mut ids: Vec<String>,
    return_to: &str,
) -> Result<(), ServerFnError> {
    let (action, done_verb) = match verb {
        JobsVerb::Requeue => ("requeue", "Requeued"),
        JobsVerb::Delete => ("delete", "Deleted"),
        JobsVerb::Cancel => ("cancel", "Canceled"),
        JobsVerb::EnqueueNow => ("enqueue-now", "Enqueued"),
    };
    ids.retain(|id| !id.is_empty());
    ids.dedup();
    act(action, return_to, |c| async move {
        validate_ids(&ids)?;
        let store = &c.store;
        let outcome = match verb {
            JobsVerb::Requeue => engine::actions::requeue::requeue(store, &ids).await?,
            JobsVerb::Delete => engine::actions::delete::delete(store, &ids).await?,
            JobsVerb::Cancel => engine::actions::cancel::cancel(store, &ids).await?,
            JobsVerb::EnqueueNow => engine::actions::enqueue_now::enqueue_now(store, &ids).await?,
        };
        if outcome.count() == 0 && !outcome.skipped.is_empty() {
            return Err(Refusal::Invalid(outcome_message(done_verb, &outcome)));
        }
        Ok(Done {
            message: outcome_message(done_verb, &outcome),
            target: ids_target(&ids),
            count: outcome.count(),
        })
    })
    .await
}

pub async fn stop_job(id: String, return_to: &str) -> Result<(), ServerFnError> {
    use engine::actions::stop::StopOutcome;
    act("stop", return_to, |c| async move {
        engine::error::validate_job_id(&id)?;
        match engine::actions::stop::stop(&c.store, &id).await? {
            StopOutcome::Sent { worker, receivers } => Ok(Done {
                message: if receivers == 0 {
                    format!("Stop sent to {worker}, but no worker process is listening.")
                } else {
                    format!("Stop sent to {worker}.")
                },
                target: id,
                count: 1,
            }),
            StopOutcome::NotRunning { status } => Err(Refusal::Invalid(format!(
                "Job {id} is not running (status: {status})."
            ))),
            StopOutcome::NotFound => Err(Refusal::NotFound(format!("No such job: {id}."))),
        }
    })
    .await
}

/// Parses the confirmed count carried by the form.
fn parse_expected(expected: &str) -> Result<u64, Refusal> {
    expected.trim().parse().map_err(|_| {
        Refusal::Invalid("Missing confirmation count; confirm the action again.".into())
    })
}

async fn check_queue(c: &Console, queue: &str) -> Result<(), Refusal> {
    engine::error::validate_queue_name(queue)?;
    if !engine::queue::exists(&c.store, queue).await? {
        return Err(Refusal::NotFound(format!("No such queue: {queue}.")));
    }
    Ok(())
}

/// The live count of `list` in `queue` (or across all queues), bypassing the snapshot cache.
async fn live_count(
    c: &std::sync::Arc<Console>,
    queue: Option<&str>,
    list: engine::model::JobList,
) -> Result<u64, Refusal> {
    c.invalidate().await;
    let snap = c.snapshot().await?;
    Ok(match queue {
        Some(q) => snap
            .queues
            .iter()
            .find(|qc| qc.name == q)
            .map(|qc| qc.get(list))
            .unwrap_or(0),
        None => snap.queues.iter().map(|qc| qc.get(list)).sum(),
    })
}

fn changed(what: &str, expected: u64, now: u64) -> Refusal {
    Refusal::Changed(format!(
        "The number of {what} changed from {} to {} since you confirmed; nothing was done. \
         Review and confirm again.",
        format::count(expected),
        format::count(now)
    ))
}

pub async fn requeue_queue(
    queue: String,
    expected: &str,
    return_to: &str,
) -> Result<(), ServerFnError> {
    use engine::model::JobList;
    let expected = expected.to_string();
    act("requeue-queue", return_to, |c| async move {
        check_queue(&c, &queue).await?;
        let expected = parse_expected(&expected)?;
        let now = live_count(&c, Some(&queue), JobList::Failed).await?;
        if now != expected {
            return Err(changed(&format!("failed jobs in {queue}"), expected, now));
        }
        let n = engine::actions::requeue::requeue_queue(&c.store, &queue).await?;
        Ok(Done {
            message: format!("Requeued {} from {queue}.", plural(n, "failed job")),
            target: queue,
            count: n,
        })
    })
    .await
}

pub async fn requeue_all(expected: &str, return_to: &str) -> Result<(), ServerFnError> {
    use engine::model::JobList;
    let expected = expected.to_string();
    act("requeue-all", return_to, |c| async move {
        let expected = parse_expected(&expected)?;
        let now = live_count(&c, None, JobList::Failed).await?;
        if now != expected {
            return Err(changed("failed jobs", expected, now));
        }
        let n = engine::actions::requeue::requeue_all(&c.store).await?;
        Ok(Done {
            message: format!("Requeued {}.", plural(n, "failed job")),
            target: "*".into(),
            count: n,
        })
    })
    .await
}

pub async fn empty_queue(
    queue: String,
    expected: &str,
    return_to: &str,
) -> Result<(), ServerFnError> {
    use engine::model::JobList;
    let expected = expected.to_string();
    act("empty", return_to, |c| async move {
        check_queue(&c, &queue).await?;
        let expected = parse_expected(&expected)?;
        let now = live_count(&c, Some(&queue), JobList::Queued).await?;
        if now != expected {
            return Err(changed(&format!("queued jobs in {queue}"), expected, now));
        }
        let n = engine::actions::empty::empty(&c.store, &queue).await?;
        Ok(Done {
            message: format!("Emptied {queue}: removed {}.", plural(n, "job")),
            target: queue,
            count: n,
        })
    })
    .await
}

#[derive(Clone, Copy, Debug)]
pub enum WorkerVerb {
    Shutdown,
    KillHorse,
}

async fn check_worker(c: &Console, worker: &str) -> Result<(), Refusal> {
    if worker.is_empty() || worker.len() > 300 || worker.chars().any(char::is_control) {
        return Err(Refusal::Invalid("Invalid worker name.".into()));
    }
    if engine::workers::get(&c.store, worker).await?.is_none() {
        return Err(Refusal::NotFound(format!("No such worker: {worker}.")));
    }
    Ok(())
}

fn receivers_note(receivers: u64) -> &'static str {
    if receivers == 0 {
        " No worker process is listening (it may be gone)."
    } else {
        ""
    }
}

pub async fn worker_command(
    verb: WorkerVerb,
    worker: String,
    return_to: &str,
) -> Result<(), ServerFnError> {
    let action = match verb {
        WorkerVerb::Shutdown => "shutdown",
        WorkerVerb::KillHorse => "kill-horse",
    };
    act(action, return_to, |c| async move {
        check_worker(&c, &worker).await?;
        let (receivers, what) = match verb {
            WorkerVerb::Shutdown => (
                engine::actions::shutdown::shutdown(&c.store, &worker).await?,
                "Shutdown",
            ),
            WorkerVerb::KillHorse => (
                engine::actions::shutdown::kill_horse(&c.store, &worker).await?,
                "Kill-horse",
            ),
        };
        Ok(Done {
            message: format!("{what} sent to {worker}.{}", receivers_note(receivers)),
            target: worker,
            count: receivers,
        })
    })
    .await
}

pub async fn scale(worker: String, slots: &str, return_to: &str) -> Result<(), ServerFnError> {
    let slots = slots.trim().to_string();
    act("scale", return_to, |c| async move {
        let max = engine::actions::scale::MAX_SLOTS;
        let n: u64 = slots
            .parse()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                Refusal::Invalid(format!(
                    "Slot count must be a whole number from 1 to {max}."
                ))
            })?;
        check_worker(&c, &worker).await?;
        let receivers = engine::actions::scale::scale(&c.store, &worker, n).await?;
        Ok(Done {
            message: format!(
                "Scale to {n} sent to {worker}.{}",
                receivers_note(receivers)
            ),
            target: worker,
            count: n,
        })
    })
    .await
}

pub async fn suspend(duration: &str, return_to: &str) -> Result<(), ServerFnError> {
    let duration = duration.trim().to_string();
    act("suspend", return_to, |c| async move {
        let secs = if duration.is_empty() {
            None
        } else {
            let max = super::MAX_SUSPEND_SECS;
            Some(
                duration
                    .parse::<u64>()
                    .ok()
                    .filter(|s| (1..=max).contains(s))
                    .ok_or_else(|| {
                        Refusal::Invalid(format!(
                            "Duration must be empty or a whole number of seconds from 1 to {max}."
                        ))
                    })?,
            )
        };
        engine::actions::suspend::suspend(&c.store, secs).await?;
        Ok(Done {
            message: match secs {
                Some(s) => format!("Workers suspended for {}.", format::age(s as f64)),
                None => "Workers suspended until resumed.".into(),
            },
            target: "*".into(),
            count: secs.unwrap_or(0),
        })
    })
    .await
}

pub async fn resume(return_to: &str) -> Result<(), ServerFnError> {
    act("resume", return_to, |c| async move {
        engine::actions::suspend::resume(&c.store).await?;
        Ok(Done {
            message: "Workers resumed.".into(),
            target: "*".into(),
            count: 0,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_redirects_stay_local_and_drop_old_flashes() {
        assert_eq!(
            with_flash("/failed?page=2&ok=x", "ok", "done"),
            "/failed?page=2&ok=done"
        );
        assert_eq!(
            with_flash("/failed?confirm=requeue-all", "err", "a b"),
            "/failed?err=a%20b"
        );
        assert_eq!(with_flash("https://evil.example/", "ok", "x"), "/?ok=x");
        assert_eq!(with_flash("//evil.example/", "ok", "x"), "/?ok=x");
        assert_eq!(with_flash("", "ok", "x"), "/?ok=x");
    }

    #[test]
    fn audit_targets_are_bounded() {
        let ids: Vec<String> = (0..8).map(|i| format!("j{i}")).collect();
        assert_eq!(ids_target(&ids), "j0,j1,j2,j3,j4 (+3 more)");
    }
}
