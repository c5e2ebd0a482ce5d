//! (ssr) The live feed behind `GET /api/v1/events`: one background ticker per console reads the
//! shared snapshot (through `Console::snapshot`, so pages and the feed share one Redis read) once
//! per `TICK` and publishes it on a `watch` channel; every open browser's event stream is a
//! receiver of that channel. N browsers therefore cost one snapshot per tick, not N, and a
//! console nobody watches reads nothing (the ticker skips ticks without receivers).
//!
//! Frames are only published when the snapshot changed (ignoring `taken_at`), so an idle system
//! sends keep-alive comments only. Every `STATS_EVERY` the feed also announces a stats tick, on
//! which chart islands re-fetch their SVG.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::watch;

use crate::live::LiveState;
use crate::state::Console;

/// How often the ticker looks at the snapshot.
pub const TICK: Duration = Duration::from_secs(1);
/// How often a `stats` event is announced (charts re-fetch then).
pub const STATS_EVERY: Duration = Duration::from_secs(10);

/// What every subscriber sees: nothing yet, the latest frame, or the end of the stream.
#[derive(Clone, Debug)]
pub enum Feed {
    Waiting,
    Frame(Arc<Frame>),
    /// The console shuts down: streams end so graceful shutdown does not wait on them.
    Closed,
}

/// One published state. `seq` grows by one each time the snapshot changed; `stats_seq` by one
/// per stats tick. A subscriber that missed frames compares both with what it last saw.
#[derive(Clone, Debug)]
pub struct Frame {
    pub seq: u64,
    pub stats_seq: u64,
    pub state: LiveState,
    /// `state` as JSON, serialised once for every subscriber.
    pub json: Arc<str>,
}

/// The channel and the once-only start of its ticker; lives in `Console`.
pub struct Hub {
    tx: watch::Sender<Feed>,
    started: OnceLock<()>,
    /// The live rows' page reads, shared by the browsers that ask after the same frame.
    pub rows: crate::rows::Cache,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            tx: watch::Sender::new(Feed::Waiting),
            started: OnceLock::new(),
            rows: Default::default(),
        }
    }
}

impl Hub {
    /// Ends every stream (graceful shutdown); later subscribers get a closed feed too.
    pub fn close(&self) {
        self.tx.send_replace(Feed::Closed);
    }

    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// When the snapshot of the latest published frame was taken (unix seconds; 0 before the
    /// first): a row read started after it shows at least what that frame announced.
    pub fn latest_taken_at(&self) -> f64 {
        match &*self.tx.borrow() {
            Feed::Frame(f) => f.state.snapshot.as_ref().map_or(0.0, |s| s.taken_at),
            _ => 0.0,
        }
    }
}

/// A receiver of the console's feed; the first call starts the ticker.
pub fn subscribe(console: &Arc<Console>) -> watch::Receiver<Feed> {
    let hub = &console.events;
    if hub.started.set(()).is_ok() {
        tokio::spawn(ticker(Arc::downgrade(console)));
    }
    hub.tx.subscribe()
}

/// The snapshot without its timestamp, for "did anything change".
fn essence(state: &LiveState) -> LiveState {
    let mut s = state.clone();
    if let Some(snap) = s.snapshot.as_mut() {
        snap.taken_at = 0.0;
        // Heartbeats move every few seconds on a healthy idle system; they are not news.
        for w in &mut snap.workers {
            w.last_heartbeat = None;
            w.heartbeat_age = None;
            w.current_job_working_time = None;
        }
        snap.redis = Default::default();
    }
    s
}

async fn ticker(console: Weak<Console>) {
    let mut every = tokio::time::interval(TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ticks_per_stats = (STATS_EVERY.as_millis() / TICK.as_millis()).max(1) as u64;
    let (mut seq, mut stats_seq, mut tick) = (0u64, 0u64, 0u64);
    let mut last: Option<LiveState> = None;
    loop {
        every.tick().await;
        let Some(console) = console.upgrade() else {
            return;
        };
        let hub = &console.events;
        if matches!(*hub.tx.borrow(), Feed::Closed) {
            return;
        }
        if hub.tx.receiver_count() == 0 {
            continue;
        }
        tick += 1;
        let stats_tick = tick % ticks_per_stats == 0;
        let state = crate::live::load(&console).await;
        let now = essence(&state);
        let changed = last.as_ref() != Some(&now);
        if !changed && !stats_tick {
            continue;
        }
        if changed {
            last = Some(now);
            seq += 1;
        }
        if stats_tick {
            stats_seq += 1;
        }
        let json: Arc<str> = serde_json::to_string(&state)
            .unwrap_or_else(|_| "{}".into())
            .into();
        let frame = Frame {
            seq,
            stats_seq,
            state,
            json,
        };
        hub.tx.send_if_modified(|feed| {
            if matches!(feed, Feed::Closed) {
                return false;
            }
            *feed = Feed::Frame(Arc::new(frame));
            true
        });
    }
}
