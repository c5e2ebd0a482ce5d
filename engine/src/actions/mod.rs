//! Operator actions. [`Action`] is the vocabulary (one canonical name per action) and
//! [`perform`] the one way to run one: every way in (console, API, CLI) goes through it.
//! Below it, one file per action, each the same shape: arguments, one atomic call (a Lua script
//! from `engine/lua/`, held by
//! `crate::scripts`, or one MULTI), a typed outcome.

pub mod action;
pub mod cancel;
pub mod delete;
pub mod empty;
pub mod enqueue_now;
pub mod group;
pub mod perform;
pub mod requeue;
pub mod run_cron;
pub mod scale;
pub mod search;
pub mod shutdown;
pub mod stop;
pub mod suspend;

use serde::{Deserialize, Serialize};

pub use action::{Action, Outcome};
pub use perform::perform;

/// What a per-id action did: ids it changed and ids it left alone, with the reason.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobsOutcome {
    pub done: Vec<String>,
    pub skipped: Vec<Skipped>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Skipped {
    pub id: String,
    /// Stable code: `not_found`, `not_failed`, `wrong_state`, `invalid_id`, ...
    pub reason: String,
}

impl JobsOutcome {
    pub fn count(&self) -> u64 {
        self.done.len() as u64
    }
}

impl JobsOutcome {
    fn merge(&mut self, (done, skipped): (Vec<String>, Vec<String>)) {
        self.done.extend(done);
        let mut pairs = skipped.into_iter();
        while let (Some(id), Some(reason)) = (pairs.next(), pairs.next()) {
            self.skipped.push(Skipped { id, reason });
        }
    }
}

/// Ids per script call: bounds how long one call holds Redis.
pub const CHUNK: usize = 1000;

/// `zlib.compress(b"")`, what RQ's requeue writes into `exc_info`.
pub(crate) const ZLIB_EMPTY: &[u8] = &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];

/// Runs a per-id action script over `ids` in chunks of [`CHUNK`]: invalid ids are skipped with
/// `invalid_id` without reaching Redis, repeated ids count once. `keys` and `args` go before the
/// ids. Each chunk is atomic on its own.
pub(crate) async fn run_per_id(
    store: &crate::Store,
    script: &redis::Script,
    keys: &[&str],
    args: &[&[u8]],
    ids: &[String],
) -> crate::Result<JobsOutcome> {
    let mut out = JobsOutcome::default();
    let mut seen = std::collections::HashSet::new();
    let mut valid = Vec::with_capacity(ids.len());
    for id in ids {
        if crate::limits::validate_job_id(id).is_err() {
            out.skipped.push(Skipped {
                id: id.chars().take(200).collect(),
                reason: "invalid_id".into(),
            });
        } else if seen.insert(id.as_str()) {
            valid.push(id.as_str());
        }
    }
    let mut conn = store.conn();
    for chunk in valid.chunks(CHUNK) {
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(*k);
        }
        for a in args {
            inv.arg(*a);
        }
        for id in chunk {
            inv.arg(*id);
        }
        out.merge(inv.invoke_async(&mut conn).await?);
    }
    Ok(out)
}
