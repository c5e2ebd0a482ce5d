//! Stop a running job: publish RQ's `stop-job` command to the worker running it (Python RQ
//! workers and Taskmill slots both obey it).

use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::limits::validate_job_id;
use crate::{keys, Result, Store};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StopOutcome {
    /// Command published; `receivers` is PUBLISH's reply (0 = the worker is not listening).
    Sent {
        worker: String,
        receivers: u64,
    },
    /// The job is not running (its status is given).
    NotRunning {
        status: String,
    },
    NotFound,
}

/// Reads `status` and `worker_name`, then publishes `stop-job` to that worker if the job is
/// `started`. Two commands, not one script: the publish is fire-and-forget anyway, and a worker
/// that already moved on ignores a stop for a job it is not running (RQ checks `current_job`).
/// A started job without a `worker_name` (1.16 data, or a crashed horse) is `NotRunning`.
pub async fn stop(store: &Store, id: &str) -> Result<StopOutcome> {
    validate_job_id(id)?;
    let mut conn = store.conn();
    let (status, worker): (Option<String>, Option<String>) = redis::cmd("HMGET")
        .arg(keys::job(id))
        .arg("status")
        .arg("worker_name")
        .query_async(&mut conn)
        .await?;
    let Some(status) = status else {
        let exists: bool = redis::cmd("EXISTS")
            .arg(keys::job(id))
            .query_async(&mut conn)
            .await?;
        return Ok(if exists {
            StopOutcome::NotRunning {
                status: "created".into(),
            }
        } else {
            StopOutcome::NotFound
        });
    };
    match worker.filter(|w| !w.is_empty()) {
        Some(worker) if status == "started" => {
            let payload = Command::StopJob {
                job_id: id.to_string(),
            }
            .to_payload();
            let receivers: u64 = redis::cmd("PUBLISH")
                .arg(keys::pubsub(&worker))
                .arg(payload)
                .query_async(&mut conn)
                .await?;
            Ok(StopOutcome::Sent { worker, receivers })
        }
        _ => Ok(StopOutcome::NotRunning { status }),
    }
}
