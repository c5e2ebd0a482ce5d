//! Server-side state shared by pages, server functions, the JSON API and `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::actions::{Action, Outcome};
use engine::backend::{Backend, Rq};
use engine::model::Snapshot;
use engine::Store;

/// How long one snapshot is shared before the next read of Redis.
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(1);
/// From this age on, the first caller starts a refresh in the background and still gets the
/// current snapshot; the others keep using it too. Under steady traffic the cache is renewed
/// before it expires, so no request waits on Redis for it.
pub const SNAPSHOT_REFRESH_AGE: Duration = Duration::from_millis(750);

/// Provided as Leptos context (`use_context::<Arc<Console>>()`) and as axum state.
pub struct Console {
    /// What pages, the API, `/metrics` and actions read and act through.
    pub backend: Arc<dyn Backend>,
    /// The RQ store behind the default backend: health checks and tests only.
    pub store: Store,
    /// `--read-only`: every action is hidden in the UI and refused by the server.
    pub read_only: bool,
    /// `--celery-broker`: the Celery half of the console (its pages and `celery-*` actions).
    pub celery: Option<Arc<engine::celery::Celery>>,
    cache: Mutex<Cache>,
    /// Held by whoever reads Redis for a new snapshot (single flight).
    refresh: Arc<tokio::sync::Mutex<()>>,
    /// How many snapshots were read from Redis (the live feed's one-read-per-tick test).
    snapshot_reads: AtomicU64,
    /// The live feed (`GET /api/v1/events`): one ticker, any number of subscribers.
    pub events: crate::events::Hub,
    /// Rendered charts, shared by requests until their data can have changed.
    pub charts: crate::charts::Cache,
}

#[derive(Default)]
struct Cache {
    current: Option<(Instant, Arc<Snapshot>)>,
    /// Bumped by `invalidate`, so a read that started before an action is not stored after it.
    generation: u64,
}

impl Console {
    /// A console over RQ (the default backend).
    pub fn new(store: Store, read_only: bool) -> Console {
        Console {
            backend: Arc::new(Rq::new(store.clone())),
            store,
            read_only,
            celery: None,
            cache: Mutex::new(Cache::default()),
            refresh: Arc::new(tokio::sync::Mutex::new(())),
            snapshot_reads: AtomicU64::new(0),
            events: Default::default(),
            charts: Default::default(),
        }
    }

    /// The same console with a Celery broker beside RQ.
    pub fn with_celery(mut self, celery: Arc<engine::celery::Celery>) -> Console {
        self.celery = Some(celery);
        self
    }

    fn cached(&self) -> (Option<(Duration, Arc<Snapshot>)>, u64) {
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let current = c.current.as_ref().map(|(at, s)| (at.elapsed(), s.clone()));
        (current, c.generation)
    }

    /// Reads a new snapshot and caches it, unless `invalidate` ran since `generation` was read
    /// (then it is only returned) or a newer one is already cached.
    async fn renew(&self, generation: u64) -> Result<Arc<Snapshot>, engine::Error> {
        let at = Instant::now();
        self.snapshot_reads.fetch_add(1, Ordering::Relaxed);
        let snap = Arc::new(self.backend.snapshot().await?);
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let newer = c.current.as_ref().is_none_or(|(old, _)| *old < at);
        if c.generation == generation && newer {
            c.current = Some((at, snap.clone()));
        }
        Ok(snap)
    }

    /// The shared snapshot, at most `SNAPSHOT_MAX_AGE` old. Concurrent callers wait for one
    /// read instead of each hitting Redis; past `SNAPSHOT_REFRESH_AGE` one background task
    /// renews it while callers keep the current one.
    pub async fn snapshot(self: &Arc<Self>) -> Result<Arc<Snapshot>, engine::Error> {
        let (current, generation) = self.cached();
        if let Some((age, snap)) = current {
            if age < SNAPSHOT_REFRESH_AGE {
                return Ok(snap);
            }
            if age < SNAPSHOT_MAX_AGE {
                if let Ok(guard) = self.refresh.clone().try_lock_owned() {
                    let me = self.clone();
                    tokio::spawn(async move {
                        let _guard = guard;
                        // A failed read leaves the current one; callers read again at expiry.
                        let _ = me.renew(generation).await;
                    });
                }
                return Ok(snap);
            }
        }
        let _guard = self.refresh.lock().await;
        // Someone else may have refreshed it while this caller waited.
        let (current, generation) = self.cached();
        if let Some((age, snap)) = current {
            if age < SNAPSHOT_MAX_AGE {
                return Ok(snap);
            }
        }
        self.renew(generation).await
    }

    /// Runs an operator action for `who`: refused on a read-only console, otherwise performed
    /// by the backend (validated, atomic, audited), then the cached snapshot is dropped so the
    /// next read shows the effect. The `/ui` server functions and the JSON API both come here.
    pub async fn perform(&self, action: Action, who: &str) -> Result<Outcome, Refused> {
        if self.read_only {
            return Err(Refused::ReadOnly);
        }
        let outcome = match (&self.celery, action.is_celery()) {
            (Some(c), true) => engine::celery::perform::perform(c, &self.store, action, who).await,
            _ => self.backend.perform(action, who).await,
        };
        self.invalidate().await;
        Ok(outcome?)
    }

    /// Snapshots read from Redis since start (each one is a pipeline of O(queues) commands).
    pub fn snapshot_reads(&self) -> u64 {
        self.snapshot_reads.load(Ordering::Relaxed)
    }

    /// Drops the cached snapshot so the next read reflects an action just taken.
    pub async fn invalidate(&self) {
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.current = None;
        c.generation += 1;
        drop(c);
        self.events.rows.clear();
    }
}

/// Why [`Console::perform`] did nothing.
#[derive(Debug)]
pub enum Refused {
    /// `--read-only`: every action is refused on the server, whatever the UI shows.
    ReadOnly,
    Engine(engine::Error),
}

impl From<engine::Error> for Refused {
    fn from(e: engine::Error) -> Refused {
        Refused::Engine(e)
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::ReadOnly => f.write_str("This console is read-only: actions are disabled."),
            Refused::Engine(e) => e.fmt(f),
        }
    }
}

/// Several Redis instances in one console (`--redis NAME=URL`, repeated): every instance's
/// console, the default (first) one first. Provided as context to every instance's pages, for
/// the overview across instances (`/instances`).
pub struct Fleet {
    pub instances: Vec<(String, Arc<Console>)>,
}

/// How long one instance may take to answer before it is shown as unreachable.
pub const INSTANCE_DEADLINE: Duration = Duration::from_secs(2);

impl Fleet {
    /// Every instance's shared snapshot, or why it could not be read: all read concurrently,
    /// each within `INSTANCE_DEADLINE`, so a slow instance costs one deadline, not one each.
    pub async fn read_all(&self) -> Vec<(String, Result<Arc<Snapshot>, String>)> {
        let reads: Vec<_> = self
            .instances
            .iter()
            .map(|(name, c)| {
                let c = c.clone();
                let name = name.clone();
                tokio::spawn(async move {
                    let read = match tokio::time::timeout(INSTANCE_DEADLINE, c.snapshot()).await {
                        Ok(Ok(s)) => Ok(s),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err(format!(
                            "no answer within {} s",
                            INSTANCE_DEADLINE.as_secs()
                        )),
                    };
                    (name, read)
                })
            })
            .collect();
        let mut out = Vec::with_capacity(reads.len());
        for (r, (name, _)) in reads.into_iter().zip(&self.instances) {
            out.push(
                r.await
                    .unwrap_or_else(|e| (name.clone(), Err(e.to_string()))),
            );
        }
        out
    }
}

/// Which instance a request is scoped to, provided as context with the instance's console.
/// Without several instances there is none in context and nothing shows an instance.
#[derive(Clone, Debug)]
pub struct Here {
    /// This request's instance.
    pub name: String,
    /// Every instance's name, the default first.
    pub names: Arc<Vec<String>>,
    /// The console's base path (`--url-prefix`, or empty): instance URLs start there.
    pub root: String,
}

impl Here {
    /// The browser path that scopes a URL to instance `name`: the console's root for the
    /// default instance (its pages keep their plain URLs), `ROOT/i/NAME` for the others.
    /// Complete URLs: not to be passed through `url::href` again.
    pub fn scope(&self, name: &str) -> String {
        if self.names.first().map(String::as_str) == Some(name) {
            self.root.clone()
        } else {
            format!("{}/i/{}", self.root, crate::format::url_part(name))
        }
    }
}
