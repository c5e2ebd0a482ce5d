//! History: per-queue counters and sampled gauges, per-function durations, in Taskmill's own
//! `taskmill:stats:*` keys (built in `keys.rs`), bounded by TTLs.
//!
//! Writers (both Lua, sharing `lua/stats_lib.lua`):
//! - Taskmill workers count finished / failed jobs and function durations inside the finish
//!   script they already run (`lua/finish.lua`): no extra round trip per job or batch.
//! - The console's sampler ([`sample`]) writes gauges (depth, started, oldest-job age, busy /
//!   idle workers) every interval and attributes Python `rq worker` counters' deltas to their
//!   queues; one console per interval writes (a `SET NX EX` lock per interval slot).
//!
//! Two resolutions: 1-minute buckets (one hash per hour) kept 48 h, 1-hour buckets (one hash per
//! day) kept 90 days by default ([`Retention`], stored in Redis by [`configure`] so the workers
//! use the console's setting). Readers ([`series`], [`functions`], [`totals`]) are one pipeline
//! over the keys covering the range, never a scan.

mod read;
mod sample;

use std::sync::LazyLock;

pub use read::{functions, series, totals, FunctionTotals, QueueTotals, MAX_FUNCTIONS};
pub use sample::{sample, write as write_sample, SampleOutcome};

use crate::{keys, Result, Store};

/// Functions per queue kept by name in the `/metrics` totals; the rest are `other`.
pub const FUNCTION_CAP: u64 = 50;

/// How long buckets live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// 1-minute buckets (default 48 h).
    pub minute_s: u64,
    /// 1-hour buckets (default 90 days).
    pub hour_s: u64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            minute_s: 48 * 3_600,
            hour_s: 90 * 86_400,
        }
    }
}

/// Stores the retention for every writer (workers read it inside their finish call).
pub async fn configure(store: &Store, retention: Retention) -> Result<()> {
    let _: () = redis::cmd("HSET")
        .arg(keys::STATS_CONFIG)
        .arg("minute_ttl")
        .arg(retention.minute_s)
        .arg("hour_ttl")
        .arg(retention.hour_s)
        .query_async(&mut store.conn())
        .await?;
    Ok(())
}

/// One job for [`record`].
#[derive(Clone, Debug, PartialEq)]
pub struct JobRecord {
    pub queue: String,
    pub function: String,
    pub ok: bool,
    pub duration_s: f64,
}

/// Records `jobs` as ended at `now` with the same Lua code the workers' finish call runs (for
/// seeding, benchmarks and tests; workers never call this).
pub async fn record(store: &Store, now: i64, jobs: &[JobRecord]) -> Result<u64> {
    let mut inv = crate::scripts::STATS_RECORD.prepare_invoke();
    inv.arg(now).arg(FUNCTION_CAP);
    for j in jobs {
        inv.arg(&j.queue)
            .arg(&j.function)
            .arg(if j.ok { "1" } else { "" })
            .arg(format!("{:.0}", j.duration_s * 1e6))
            .arg(crate::model::duration_bucket(j.duration_s));
    }
    Ok(inv.invoke_async(&mut store.conn()).await?)
}

/// What a Taskmill worker passes its finish script: 0 when recording is off
/// (`TASKMILL_STATS=off`, for A/B benchmarks), else [`FUNCTION_CAP`].
pub fn recording_cap() -> u64 {
    static ON: LazyLock<bool> = LazyLock::new(|| {
        !matches!(
            std::env::var("TASKMILL_STATS").as_deref(),
            Ok("off" | "0" | "false" | "no")
        )
    });
    if *ON {
        FUNCTION_CAP
    } else {
        0
    }
}
