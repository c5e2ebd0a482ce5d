//! Operator actions. One file per action, each the same shape: arguments, validation, one atomic
//! call (a Lua script from `engine/lua/`, or one MULTI), a typed outcome.

pub mod cancel;
pub mod delete;
pub mod empty;
pub mod enqueue_now;
pub mod requeue;
pub mod scale;
pub mod shutdown;
pub mod stop;
pub mod suspend;

use serde::{Deserialize, Serialize};

/// What a bulk action did: ids it changed and ids it left alone, with the reason.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub done: Vec<String>,
    pub skipped: Vec<Skipped>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: String,
    /// Stable code: `not_found`, `not_failed`, `wrong_state`, `invalid_id`, ...
    pub reason: String,
}

impl Outcome {
    pub fn count(&self) -> u64 {
        self.done.len() as u64
    }
}
