//! [`perform`]: the one way an [`Action`] runs, whoever asks. It validates the input, checks
//! what must exist and the count the operator confirmed, runs the action's one atomic call, and
//! writes the audit record.
//!
//! The confirmed-count check reads the live count (LLEN / ZCARD, never a cached snapshot) just
//! before the call: a job arriving between the two is the only way the count can still move,
//! which is the same window RQ's own `requeue` / `empty` have.

use super::action::{Action, Outcome};
use super::group::{self, GroupVerb};
use super::search::{self, SearchVerb};
use super::{
    cancel, delete, empty, enqueue_now, requeue, run_cron, scale, shutdown, stop, suspend,
};
use crate::model::AuditEntry;
use crate::{keys, Error, Result, Store};

/// Runs `action` for `who` (the audit record's "who": a user, `local`, `cli:<user>`).
/// An audit write that fails is logged, not returned: the action already happened.
pub async fn perform(store: &Store, action: Action, who: &str) -> Result<Outcome> {
    action.validate()?;
    let outcome = run(store, &action).await?;
    let entry = AuditEntry {
        at: crate::time::now(),
        who: who.to_string(),
        action: action.name().to_string(),
        target: action.target(&outcome),
        count: outcome.count(),
    };
    if let Err(e) = crate::audit::record(store, &entry).await {
        tracing::warn!(action = action.name(), error = %e, "could not write the audit record");
    }
    Ok(outcome)
}

async fn run(store: &Store, action: &Action) -> Result<Outcome> {
    Ok(match action {
        Action::Enqueue { job } => Outcome::Enqueued {
            id: crate::enqueue::enqueue(store, (**job).clone()).await?,
        },
        Action::Requeue { ids } => Outcome::Jobs(requeue::requeue(store, ids).await?),
        Action::Cancel { ids } => Outcome::Jobs(cancel::cancel(store, ids).await?),
        Action::Delete { ids } => Outcome::Jobs(delete::delete(store, ids).await?),
        Action::EnqueueNow { ids } => Outcome::Jobs(enqueue_now::enqueue_now(store, ids).await?),
        Action::Stop { id } => match stop::stop(store, id).await? {
            stop::StopOutcome::NotFound => return Err(Error::NotFound(format!("no job {id}"))),
            other => Outcome::Stop(other),
        },
        Action::RequeueQueue { queue, expected } => {
            known_queue(store, queue).await?;
            confirm(store, Count::Failed(queue), *expected).await?;
            Outcome::Moved {
                count: requeue::requeue_queue(store, queue).await?,
            }
        }
        Action::RequeueAll { expected } => {
            confirm(store, Count::AllFailed, *expected).await?;
            Outcome::Moved {
                count: requeue::requeue_all(store).await?,
            }
        }
        Action::Empty { queue, expected } => {
            known_queue(store, queue).await?;
            confirm(store, Count::Queued(queue), *expected).await?;
            Outcome::Moved {
                count: empty::empty(store, queue).await?,
            }
        }
        Action::Shutdown { worker } => {
            known_worker(store, worker).await?;
            Outcome::Sent {
                receivers: shutdown::shutdown(store, worker).await?,
            }
        }
        Action::KillHorse { worker } => {
            known_worker(store, worker).await?;
            Outcome::Sent {
                receivers: shutdown::kill_horse(store, worker).await?,
            }
        }
        Action::Scale { worker, slots } => Outcome::Sent {
            receivers: scale::scale_any(store, worker, *slots).await?,
        },
        Action::Suspend { secs } => {
            suspend::suspend(store, *secs).await?;
            Outcome::Suspended { suspended: true }
        }
        Action::Resume => {
            suspend::resume(store).await?;
            Outcome::Suspended { suspended: false }
        }
        Action::RequeueGroup {
            fingerprint,
            expected,
        } => Outcome::Moved {
            count: group::run(store, GroupVerb::Requeue, fingerprint, *expected).await?,
        },
        Action::DeleteGroup {
            fingerprint,
            expected,
        } => Outcome::Moved {
            count: group::run(store, GroupVerb::Delete, fingerprint, *expected).await?,
        },
        Action::RequeueSearch { query, expected } => Outcome::Moved {
            count: search::run(store, SearchVerb::Requeue, query, *expected).await?,
        },
        Action::DeleteSearch { query, expected } => Outcome::Moved {
            count: search::run(store, SearchVerb::Delete, query, *expected).await?,
        },
        Action::CancelSearch { query, expected } => Outcome::Moved {
            count: search::run(store, SearchVerb::Cancel, query, *expected).await?,
        },
        Action::CreateChord { chord } => {
            Outcome::Chord(crate::chord::create(store, (**chord).clone()).await?)
        }
        Action::RunCron { name } => Outcome::Enqueued {
            id: run_cron::run_cron(store, name).await?,
        },
        // `crate::celery::perform` runs these; an RQ-only console has no broker for them.
        _ => {
            return Err(Error::NotFound(
                "no Celery broker is configured (taskmill serve --celery-broker URL)".into(),
            ))
        }
    })
}

/// Queue actions need the queue in `rq:queues`.
async fn known_queue(store: &Store, queue: &str) -> Result<()> {
    if crate::queue::exists(store, queue).await? {
        Ok(())
    } else {
        Err(Error::NotFound(format!("no queue named {queue:?}")))
    }
}

/// Worker commands need the worker's hash (a command to a name nobody uses is a typo).
pub(crate) async fn known_worker(store: &Store, worker: &str) -> Result<crate::model::WorkerInfo> {
    crate::workers::get(store, worker)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no worker named {worker:?}")))
}

enum Count<'a> {
    Queued(&'a str),
    Failed(&'a str),
    AllFailed,
}

/// Refuses with a conflict when the live count differs from the one the operator confirmed.
async fn confirm(store: &Store, what: Count<'_>, expected: Option<u64>) -> Result<()> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let mut conn = store.conn();
    let (now, label) = match what {
        Count::Queued(q) => (
            redis::cmd("LLEN")
                .arg(keys::queue(q))
                .query_async::<u64>(&mut conn)
                .await?,
            format!("queued jobs in {q}"),
        ),
        Count::Failed(q) => (
            redis::cmd("ZCARD")
                .arg(keys::failed(q))
                .query_async::<u64>(&mut conn)
                .await?,
            format!("failed jobs in {q}"),
        ),
        Count::AllFailed => {
            // The queues `requeue_all` walks.
            let mut queues = crate::queue::list(store).await?;
            queues.retain(|q| crate::limits::validate_queue_name(q).is_ok());
            let mut pipe = redis::pipe();
            for q in &queues {
                pipe.cmd("ZCARD").arg(keys::failed(q));
            }
            let counts: Vec<u64> = if queues.is_empty() {
                Vec::new()
            } else {
                pipe.query_async(&mut conn).await?
            };
            (counts.iter().sum(), "failed jobs".to_string())
        }
    };
    if now == expected {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "The number of {label} changed from {expected} to {now} since you confirmed; \
             nothing was done. Review and confirm again."
        )))
    }
}
