//! The pool's periodic ticks besides heartbeat and reaper: the limit tick (pools with limits:
//! expired permits and reopened rate windows go to parked jobs, at most a second late, sooner
//! when a window reopens) and the chord tick (chords whose members ended outside Taskmill's
//! finish script are completed, ready callbacks enqueued — once, see `crate::chord`).
//!
//! Idle cost: one chord-tick script call per second, plus two calls (publish + tick) per second
//! with limits.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::limiter;
use super::pool::Shared;

const CHORD_TICK: Duration = Duration::from_secs(1);

pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut next_chord = tokio::time::Instant::now();
    loop {
        let mut sleep = CHORD_TICK;
        if let Some(l) = &shared.limiter {
            sleep = sleep.min(limiter::tick_once(&shared, l).await);
        }
        if tokio::time::Instant::now() >= next_chord {
            if let Err(e) = crate::chord::tick(&shared.store).await {
                warn!(error = %e, "chord tick failed");
            }
            next_chord = tokio::time::Instant::now() + CHORD_TICK;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Burst end: one chord tick; whether it enqueued a callback (then the run goes on).
pub(crate) async fn fire_chords(shared: &Shared) -> bool {
    match crate::chord::tick(&shared.store).await {
        Ok(n) => n > 0,
        Err(e) => {
            warn!(error = %e, "chord tick failed");
            false
        }
    }
}
