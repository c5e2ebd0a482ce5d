//! Celery's shapes as the console shows them: serde only, no Redis, so the pages, the JSON API
//! and the wasm half can share them. Everything read from the broker is optional or carries an
//! `undecodable` reason: one bad message never fails a page.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One task queue (`GET /api/v1/celery/queues`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeleryQueue {
    pub name: String,
    /// Messages waiting in the queue's lists (sum over the priority lists).
    pub ready: u64,
    /// Messages a worker fetched and has not acked (prefetched, ETA / countdown, acks_late),
    /// from `unacked` by routing key.
    pub reserved: u64,
    /// Of `reserved`, those with an ETA.
    pub eta: u64,
    /// Online workers whose `active_queues` reply names this queue.
    pub consumers: u64,
    /// Age of the next message to be consumed, when Taskmill knows when it was first seen.
    pub oldest_age_s: Option<f64>,
    /// Length of each priority list, step → count (step 0 = the list named like the queue).
    pub by_priority: BTreeMap<u8, u64>,
}

/// All queues plus how complete the reads behind them were.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeleryQueues {
    pub queues: Vec<CeleryQueue>,
    /// Entries of `unacked` counted (a bounded HSCAN).
    pub unacked_scanned: u64,
    /// False when `unacked` was bigger than the scan budget: `reserved` is then a lower bound.
    pub unacked_complete: bool,
    /// False when the binding discovery stopped at its budget.
    pub bindings_complete: bool,
}

/// One message as peeked from a queue list or from `unacked` (never consumed).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeleryMessage {
    pub id: Option<String>,
    pub task: Option<String>,
    /// Celery's own repr (`argsrepr`) or the decoded body.
    pub args: Option<String>,
    pub kwargs: Option<String>,
    pub eta: Option<String>,
    pub expires: Option<String>,
    pub retries: Option<i64>,
    pub root_id: Option<String>,
    pub parent_id: Option<String>,
    pub group: Option<String>,
    pub priority: Option<i64>,
    /// Message protocol: 1 or 2 (0 when the envelope is unreadable).
    pub protocol: u8,
    pub content_type: Option<String>,
    pub redelivered: bool,
    /// Size of the raw envelope in bytes.
    pub size: u64,
    /// Why (part of) the message could not be decoded; ids and headers may still be shown.
    pub undecodable: Option<String>,
}

/// One page of a queue's messages in consumption order (next first), and its reserved ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeleryQueuePage {
    pub queue: CeleryQueue,
    pub messages: Vec<CeleryMessage>,
    pub offset: u64,
    pub limit: u64,
    /// Up to a few reserved / ETA messages of this queue (from the `unacked` scan).
    pub reserved: Vec<CeleryMessage>,
}

/// One worker as seen from its events (`GET /api/v1/celery/workers`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeleryWorker {
    pub hostname: String,
    /// Alive: a heartbeat arrived within 2 × its `freq`.
    pub online: bool,
    /// From `inspect stats` (`pool.max-concurrency`), when a reply arrived.
    pub pool_size: Option<u64>,
    pub active: u64,
    pub processed: u64,
    pub loadavg: Vec<f64>,
    /// Epoch seconds (console clock) of the last heartbeat received.
    pub last_heartbeat: Option<f64>,
    pub freq: f64,
    pub sw_ver: Option<String>,
    /// Epoch seconds when the worker said goodbye (or was last seen alive), when offline.
    pub offline_since: Option<f64>,
    /// Queues it consumes (`inspect active_queues`).
    pub queues: Vec<String>,
}

/// How the console's event subscription is doing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventStatus {
    pub connected: bool,
    pub reconnects: u64,
    pub events: u64,
    pub last_error: Option<String>,
    /// Epoch seconds of the last (re)subscription.
    pub since: Option<f64>,
}

/// A pidbox broadcast's answers: node → reply, or `None` when nobody answered in time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectReply {
    pub method: String,
    pub replies: BTreeMap<String, serde_json::Value>,
    pub timeout_ms: u64,
    /// "no reply in N ms" when `replies` is empty.
    pub no_reply: Option<String>,
}

/// One task row of the list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeleryTaskSummary {
    pub id: String,
    pub name: Option<String>,
    pub state: String,
    pub worker: Option<String>,
    pub args: Option<String>,
    pub kwargs: Option<String>,
    pub runtime_s: Option<f64>,
    pub retries: Option<i64>,
    /// Epoch seconds Taskmill first saw it.
    pub seen_at: f64,
}

/// One page of tasks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeleryTaskPage {
    pub items: Vec<CeleryTaskSummary>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    /// With both filters, how many entries were examined (bounded) and whether that was all.
    pub examined: u64,
    pub complete: bool,
}

/// Everything about one task (`GET /api/v1/celery/tasks/{id}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeleryTask {
    pub id: String,
    pub name: Option<String>,
    pub state: String,
    pub args: Option<String>,
    pub kwargs: Option<String>,
    /// From the result backend (JSON text) or the success event's repr.
    pub result: Option<String>,
    pub exception: Option<String>,
    pub traceback: Option<String>,
    pub worker: Option<String>,
    pub retries: Option<i64>,
    pub runtime_s: Option<f64>,
    pub parent_id: Option<String>,
    pub root_id: Option<String>,
    pub group_id: Option<String>,
    pub children: Vec<String>,
    pub eta: Option<String>,
    pub expires: Option<String>,
    pub queue: Option<String>,
    /// Event timestamps by kind (`received`, `started`, `succeeded`, ...), epoch seconds.
    pub timeline: BTreeMap<String, f64>,
    pub date_done: Option<String>,
    /// Whether Taskmill holds the original message (retry can re-publish it).
    pub message_known: bool,
    /// Whether the result backend holds a meta for it.
    pub in_backend: bool,
}

/// Celery's part of a search (`GET /api/v1/search` → `celery`): matching tasks newest first,
/// the cursor to continue (`None`: reached the end), tasks examined so far, and `exact` when
/// the query was the id of a recorded task.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CelerySearchPage {
    pub items: Vec<CeleryTaskSummary>,
    pub cursor: Option<String>,
    pub scanned: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
}
