//! Producing jobs in RQ 2.12's exact layout with the JSON serializer: enqueue, enqueue_many (one
//! round trip), enqueue_at / enqueue_in (scheduled registry), dependencies (deferred registry),
//! and `Retry(max, intervals)`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Result, Store};

/// RQ's `Retry(max, interval)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    pub max: u32,
    #[serde(default)]
    pub intervals: Vec<u64>,
}

/// A job to create. Also the body of `POST /api/v1/queues/{name}/enqueue` (minus `queue`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    #[serde(default)]
    pub queue: String,
    /// Dotted function path, e.g. `taskmill.echo` or `tasks.add`.
    pub func: String,
    #[serde(default)]
    pub args: Vec<Value>,
    #[serde(default)]
    pub kwargs: Map<String, Value>,
    /// Custom id (`[A-Za-z0-9_-]+`); a uuid4 otherwise.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Seconds; `-1` = none; RQ's default is 180.
    #[serde(default)]
    pub timeout: Option<i64>,
    #[serde(default)]
    pub result_ttl: Option<i64>,
    #[serde(default)]
    pub failure_ttl: Option<i64>,
    #[serde(default)]
    pub ttl: Option<i64>,
    #[serde(default)]
    pub meta: Option<Map<String, Value>>,
    #[serde(default)]
    pub at_front: bool,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub allow_dependency_failures: bool,
    #[serde(default)]
    pub retry: Option<Retry>,
    /// Unix seconds: schedule instead of queueing now (enqueue_at / enqueue_in).
    #[serde(default)]
    pub schedule_at: Option<f64>,
}

impl NewJob {
    pub fn new(queue: impl Into<String>, func: impl Into<String>) -> NewJob {
        NewJob {
            queue: queue.into(),
            func: func.into(),
            args: Vec::new(),
            kwargs: Map::new(),
            id: None,
            description: None,
            timeout: None,
            result_ttl: None,
            failure_ttl: None,
            ttl: None,
            meta: None,
            at_front: false,
            depends_on: Vec::new(),
            allow_dependency_failures: false,
            retry: None,
            schedule_at: None,
        }
    }
    pub fn args(mut self, args: Vec<Value>) -> NewJob {
        self.args = args;
        self
    }
    pub fn kwargs(mut self, kwargs: Map<String, Value>) -> NewJob {
        self.kwargs = kwargs;
        self
    }
}

/// Creates one job; returns its id. Deferred if a dependency is unfinished, scheduled if
/// `schedule_at` is set, queued otherwise.
pub async fn enqueue(_store: &Store, _job: NewJob) -> Result<String> {
    todo!("H2")
}

/// Creates many jobs in one round trip (jobs without dependencies or schedule go in one Lua call).
pub async fn enqueue_many(_store: &Store, _jobs: Vec<NewJob>) -> Result<Vec<String>> {
    todo!("H2")
}
