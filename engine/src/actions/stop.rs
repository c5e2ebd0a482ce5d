//! Stop a running job: publish RQ's `stop-job` command to the worker running it (Python RQ
//! workers and Taskmill slots both obey it).

use serde::{Deserialize, Serialize};

use crate::{Result, Store};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StopOutcome {
    /// Command published; `receivers` is PUBLISH's reply (0 = the worker is not listening).
    Sent { worker: String, receivers: u64 },
    /// The job is not running (its status is given).
    NotRunning { status: String },
    NotFound,
}

pub async fn stop(_store: &Store, _id: &str) -> Result<StopOutcome> {
    todo!("H2")
}
