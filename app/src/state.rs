//! Server-side state shared by pages, server functions, the JSON API and `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::model::Snapshot;
use engine::Store;
use tokio::sync::Mutex;

/// How long one snapshot is shared before the next read of Redis.
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(1);

/// Provided as Leptos context (`use_context::<Arc<Console>>()`) and as axum state.
pub struct Console {
    pub store: Store,
    /// `--read-only`: every action is hidden in the UI and refused by the server.
    pub read_only: bool,
    cache: Mutex<Option<(Instant, Arc<Snapshot>)>>,
}

impl Console {
    pub fn new(store: Store, read_only: bool) -> Console {
        Console {
            store,
            read_only,
            cache: Mutex::new(None),
        }
    }

    /// The shared snapshot, at most `SNAPSHOT_MAX_AGE` old. Concurrent callers wait for one
    /// read instead of each hitting Redis (single flight through the mutex).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, engine::Error> {
        let mut guard = self.cache.lock().await;
        if let Some((at, snap)) = guard.as_ref() {
            if at.elapsed() < SNAPSHOT_MAX_AGE {
                return Ok(snap.clone());
            }
        }
        let snap = Arc::new(engine::snapshot::take(&self.store).await?);
        *guard = Some((Instant::now(), snap.clone()));
        Ok(snap)
    }

    /// Drops the cached snapshot so the next read reflects an action just taken.
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }
}
