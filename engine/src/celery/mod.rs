//! Celery on Redis (kombu's Redis transport + Celery's Redis result backend), beside RQ: the
//! Flower half of the console. Read-only on Celery's own keys except where Celery's protocol
//! itself writes (a pidbox request's reply binding, a retry's re-published message); Taskmill's
//! own records live under `taskmill:celery:` (see `keys::celery`).
//!
//! # Layout
//! - `types`     — serde shapes shared with the pages and the API (no Redis).
//! - `envelope`  — tolerant decoding of kombu envelopes (JSON / pickle bodies, display only).
//! - `workers`   — the worker state machine fed by events (pure, unit-tested).
//! - `queues`    — queues from the binding sets, ready / reserved / ETA counts, peeking.
//! - `events`    — the console's event subscription (PSUBSCRIBE, reconnects by itself).
//! - `tasks`     — task records in Redis (one Lua script per event) and their reads.
//! - `control`   — the pidbox: broadcast a command and collect replies until a deadline.
//! - `perform`   — the Celery operator actions of `engine::actions::Action`.
//! - `retry`     — re-publish a failed task's original (or result_extended) message.
//! - `fixture`   — which kind of Celery key a key is (the "every key accounted for" check).
//! - `history`   — recorded task events into the history (`crate::stats`) and the failure-group
//!   index (`crate::groups::fingerprint`); the sampler's Celery gauges.
//! - `groups`    — reads of Celery's failure groups (the same reads as RQ's) and their tasks.
//! - `search`    — search over the task records, bounded like RQ's.

pub mod types;

#[cfg(feature = "runtime")]
pub mod control;
#[cfg(feature = "runtime")]
pub mod envelope;
#[cfg(feature = "runtime")]
pub mod events;
#[cfg(feature = "runtime")]
pub mod fixture;
#[cfg(feature = "runtime")]
pub mod groups;
#[cfg(feature = "runtime")]
pub mod history;
#[cfg(feature = "runtime")]
pub mod perform;
#[cfg(feature = "runtime")]
pub mod queues;
#[cfg(feature = "runtime")]
pub mod retry;
#[cfg(feature = "runtime")]
pub mod search;
#[cfg(feature = "runtime")]
pub mod tasks;
#[cfg(feature = "runtime")]
pub mod workers;

#[cfg(feature = "runtime")]
pub use handle::{Celery, Transport};

#[cfg(feature = "runtime")]
mod handle {
    use std::sync::Mutex;
    use std::time::Duration;

    use crate::{Result, Store};

    /// kombu transport options that change key names.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Transport {
        /// `global_keyprefix`: prepended to every kombu key and channel.
        pub global_keyprefix: String,
        /// `priority_steps` (sorted, deduplicated; 0 always present).
        pub priority_steps: Vec<u8>,
        /// `sep` between a queue name and its step.
        pub sep: String,
    }

    impl Default for Transport {
        fn default() -> Self {
            Transport {
                global_keyprefix: String::new(),
                priority_steps: vec![0, 3, 6, 9],
                sep: crate::keys::celery::SEP.to_string(),
            }
        }
    }

    impl Transport {
        /// The lists of `queue`, in the order a consumer tries them (step 0 first).
        pub fn lists(&self, queue: &str) -> Vec<(u8, String)> {
            self.priority_steps
                .iter()
                .map(|s| {
                    let key = crate::keys::celery::queue_list(
                        &self.global_keyprefix,
                        queue,
                        &self.sep,
                        *s,
                    );
                    (*s, key)
                })
                .collect()
        }

        /// kombu's `bisect`: the largest step not above `priority`.
        pub fn step_of(&self, priority: i64) -> u8 {
            self.priority_steps
                .iter()
                .rev()
                .find(|s| i64::from(**s) <= priority)
                .copied()
                .unwrap_or(0)
        }

        /// Parses `"0,3,6,9"`; 0 is added when missing (step 0 is the plain list).
        pub fn parse_steps(text: &str) -> std::result::Result<Vec<u8>, String> {
            let mut steps = vec![0u8];
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let s: u8 = part
                    .parse()
                    .map_err(|_| format!("priority step {part:?} is not 0-255"))?;
                steps.push(s);
            }
            steps.sort_unstable();
            steps.dedup();
            Ok(steps)
        }
    }

    /// The console's handle on one Celery deployment: broker and result backend connections,
    /// transport options, and what the event subscription learnt.
    pub struct Celery {
        pub broker: Store,
        pub backend: Store,
        pub transport: Transport,
        /// The broker's DB number (kombu's fanout channel prefix `/<db>.`).
        pub db: i64,
        /// Worker state from events; also the pool sizes and queues from inspect replies.
        pub workers: Mutex<super::workers::Workers>,
        pub status: Mutex<crate::celery::types::EventStatus>,
        /// Counters behind the `flower_*` metrics.
        pub flower: Mutex<super::events::Flower>,
        /// Bounded caches behind the queue reads.
        pub(crate) queue_cache: super::queues::Cache,
        /// Deadline of pidbox requests made by the console.
        pub timeout: Duration,
        /// Where Celery's history (`crate::stats`) is written: the console's own Redis, set
        /// by `taskmill serve`; the broker when unset.
        pub history: std::sync::OnceLock<Store>,
    }

    impl Celery {
        /// Connects lazily (the console starts, and says so, while Redis is down).
        pub fn connect(broker: &str, backend: Option<&str>, transport: Transport) -> Result<Self> {
            let broker_store = Store::connect_lazy(broker)?;
            let backend_store = match backend {
                Some(url) if url != broker => Store::connect_lazy(url)?,
                _ => broker_store.clone(),
            };
            let db = broker_store
                .client()
                .get_connection_info()
                .redis_settings()
                .db();
            Ok(Celery {
                broker: broker_store,
                backend: backend_store,
                transport,
                db,
                workers: Mutex::default(),
                status: Mutex::default(),
                flower: Mutex::default(),
                queue_cache: Default::default(),
                timeout: Duration::from_millis(1000),
                history: std::sync::OnceLock::new(),
            })
        }

        pub fn prefix(&self) -> &str {
            &self.transport.global_keyprefix
        }

        pub fn event_status(&self) -> crate::celery::types::EventStatus {
            self.status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        }

        /// Workers now, online first (offline ones are kept for `workers::OFFLINE_KEPT`).
        pub fn workers(&self) -> Vec<crate::celery::types::CeleryWorker> {
            let now = crate::time::now();
            self.workers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .list(now)
        }
    }
}
