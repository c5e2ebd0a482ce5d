//! The pool's shared state: its slots and what each one runs, behind one short-held mutex.
//!
//! Tasks (dispatcher, finisher, heartbeat, reaper, command listener) share an `Arc<Shared>`.
//! A slot is `Idle`, `Reserved` (the dispatcher is claiming for it) or `Busy`; scale-down marks
//! reserved/busy slots `retiring` and they die as soon as they are idle again.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use redis::aio::{ConnectionManager, PubSubSink};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::slot::{self, BirthJob, Identity};
use super::{Handlers, PoolConfig, PoolReport};
use crate::{keys, Store};

/// Why a running job was cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AbortKind {
    /// `stop-job`: status stopped.
    Stop,
    /// `kill-horse`: RQ's "work-horse terminated unexpectedly" failure.
    Kill,
    /// Immediate shutdown, or the drain timeout ran out.
    Shutdown,
    /// The heartbeat found the started-registry entry gone (reaped or canceled meanwhile).
    LeaseLost,
}

#[derive(Default)]
pub(crate) struct Abort {
    pub token: CancellationToken,
    kind: Mutex<Option<AbortKind>>,
}

impl Abort {
    /// The first reason wins; later ones only re-cancel.
    pub fn fire(&self, kind: AbortKind) {
        let mut k = lock(&self.kind);
        if k.is_none() {
            *k = Some(kind);
        }
        drop(k);
        self.token.cancel();
    }
    pub fn kind(&self) -> Option<AbortKind> {
        *lock(&self.kind)
    }
}

pub(crate) struct Running {
    pub job_id: String,
    pub exec_id: String,
    pub queue: String,
    pub started: Instant,
    pub abort: Arc<Abort>,
}

pub(crate) enum Status {
    Idle,
    Reserved,
    Busy(Running),
}

pub(crate) struct Slot {
    pub name: String,
    pub status: Status,
    pub retiring: bool,
    /// RQ's worker-hash counters of this slot. The pool is their only writer (slot names are
    /// never reused), so finish writes absolute values instead of reading them back.
    pub counts: Counts,
    /// A claim for this slot is in flight (dispatcher or finisher): Redis may already show its
    /// next job as started while the slot still runs nothing, or its previous job.
    pub claiming: bool,
    /// A `kill-horse` / `stop-job` that arrived meanwhile, applied when the job is assigned.
    pub pending: Option<(AbortKind, Option<String>)>,
}

impl Slot {
    pub fn new(name: String) -> Slot {
        Slot {
            name,
            status: Status::Idle,
            retiring: false,
            counts: Counts::default(),
            claiming: false,
            pending: None,
        }
    }

    /// Back to idle: nothing claimed for it any more.
    fn idle(&mut self) {
        self.status = Status::Idle;
        self.claiming = false;
        self.pending = None;
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    pub succeeded: u64,
    pub failed: u64,
    pub working: f64,
}

#[derive(Default)]
pub(crate) struct State {
    pub slots: BTreeMap<usize, Slot>,
    pub report: PoolReport,
    /// Index of the next slot created by a scale-up. Never reused: a slot dying (its death
    /// written outside the lock) can then never race with the birth of a namesake.
    pub next_index: usize,
}

pub(crate) struct Shared {
    pub store: Store,
    pub conn: ConnectionManager,
    pub ident: Identity,
    pub cfg: PoolConfig,
    pub handlers: Handlers,
    pub lease_secs: i64,
    pub worker_ttl: i64,
    pub state: Mutex<State>,
    /// Signalled whenever a slot becomes free (finish, scale-up).
    pub freed: Notify,
    /// Stop claiming (graceful shutdown, `shutdown` command, burst end).
    pub stop: CancellationToken,
    pub immediate: CancellationToken,
    pub sink: tokio::sync::Mutex<Option<PubSubSink>>,
    /// Serialises `scale` calls so their birth and death writes cannot interleave.
    pub scale_lock: tokio::sync::Mutex<()>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the slot table half-written in a way that
    // matters more than stopping the worker would; keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) struct BeatSlot {
    pub name: String,
    /// Seconds the current job has run, if busy.
    pub working: Option<f64>,
    pub job: Option<String>,
}

/// Heartbeat input: every slot (name, working seconds if busy) and every running job.
pub(crate) struct Beat {
    pub slots: Vec<BeatSlot>,
    pub jobs: Vec<(usize, String, String, String)>,
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Marks every idle, non-retiring slot reserved and returns them (index, name).
    pub fn reserve_free(&self) -> Vec<(usize, String)> {
        let mut st = self.state();
        let mut out = Vec::new();
        for (i, s) in st.slots.iter_mut() {
            if matches!(s.status, Status::Idle) && !s.retiring {
                s.status = Status::Reserved;
                s.claiming = true;
                out.push((*i, s.name.clone()));
            }
        }
        out
    }

    /// For each slot index whose job is being finished: does it claim its next job in the
    /// same call (`claim` allowed, the slot still exists and is not retiring; it is then marked
    /// claiming), and its counters so far.
    pub fn finishing(&self, slots: &[usize], claim: bool) -> Vec<(bool, Counts)> {
        let mut st = self.state();
        slots
            .iter()
            .map(|i| match st.slots.get_mut(i) {
                Some(s) => {
                    let go = claim && !s.retiring;
                    s.claiming |= go;
                    (go, s.counts)
                }
                None => (false, Counts::default()),
            })
            .collect()
    }

    /// Turns a reserved slot busy (or a busy one busy with its next job), applying a command
    /// that arrived for it while the claim was in flight.
    pub fn assign(&self, index: usize, running: Running) {
        if let Some(s) = self.state().slots.get_mut(&index) {
            s.claiming = false;
            if let Some((kind, job)) = s.pending.take() {
                if job.is_none_or(|j| j == running.job_id) {
                    running.abort.fire(kind);
                }
            }
            s.status = Status::Busy(running);
        }
    }

    /// Returns unused reservations; retiring slots among them leave the table (to be buried).
    pub fn unreserve(&self, reserved: &[(usize, String)]) -> Vec<String> {
        let mut st = self.state();
        let mut dead = Vec::new();
        for (i, _) in reserved {
            let Some(s) = st.slots.get_mut(i) else {
                continue;
            };
            if matches!(s.status, Status::Reserved) {
                s.idle();
                if s.retiring {
                    dead.push(s.name.clone());
                    st.slots.remove(i);
                }
            }
        }
        dead
    }

    pub fn busy_count(&self) -> usize {
        self.state()
            .slots
            .values()
            .filter(|s| matches!(s.status, Status::Busy(_)))
            .count()
    }

    pub fn slot_names(&self) -> Vec<String> {
        self.state()
            .slots
            .values()
            .map(|s| s.name.clone())
            .collect()
    }

    pub fn busy_names(&self) -> Vec<String> {
        let st = self.state();
        st.slots
            .values()
            .filter(|s| matches!(s.status, Status::Busy(_)))
            .map(|s| s.name.clone())
            .collect()
    }

    pub fn idle_names(&self) -> Vec<String> {
        let st = self.state();
        st.slots
            .values()
            .filter(|s| matches!(s.status, Status::Idle))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Aborts the job of slot `name`; with `job_id`, only if that slot runs exactly that job.
    /// While a claim for the slot is in flight, the command is also kept for the job it gets:
    /// Redis shows that job as started before the pool has it (a kill sent on sight).
    pub fn abort_slot(&self, name: &str, kind: AbortKind, job_id: Option<&str>) -> bool {
        let mut st = self.state();
        for s in st.slots.values_mut() {
            if s.name != name {
                continue;
            }
            let mut hit = false;
            if let Status::Busy(r) = &s.status {
                if job_id.is_none_or(|j| j == r.job_id) {
                    r.abort.fire(kind);
                    hit = true;
                }
            }
            if s.claiming {
                s.pending = Some((kind, job_id.map(str::to_string)));
                hit = true;
            }
            return hit;
        }
        false
    }

    /// Aborts the job with this execution id, if it still runs (lease lost).
    pub fn abort_execution(&self, exec_id: &str, kind: AbortKind) {
        for s in self.state().slots.values() {
            if let Status::Busy(r) = &s.status {
                if r.exec_id == exec_id {
                    r.abort.fire(kind);
                }
            }
        }
    }

    pub fn abort_all(&self, kind: AbortKind) {
        for s in self.state().slots.values() {
            if let Status::Busy(r) = &s.status {
                r.abort.fire(kind);
            }
        }
    }

    pub fn beat(&self) -> Beat {
        let st = self.state();
        let mut b = Beat {
            slots: Vec::new(),
            jobs: Vec::new(),
        };
        for (i, s) in st.slots.iter() {
            match &s.status {
                Status::Busy(r) => {
                    b.slots.push(BeatSlot {
                        name: s.name.clone(),
                        working: Some(r.started.elapsed().as_secs_f64()),
                        job: Some(r.job_id.clone()),
                    });
                    b.jobs
                        .push((*i, r.queue.clone(), r.job_id.clone(), r.exec_id.clone()));
                }
                _ => b.slots.push(BeatSlot {
                    name: s.name.clone(),
                    working: None,
                    job: None,
                }),
            }
        }
        b
    }

    /// Frees the slot after its finish write; returns its name if it must now die (retiring).
    pub fn release(&self, index: usize) -> Option<String> {
        let mut st = self.state();
        let s = st.slots.get_mut(&index)?;
        s.idle();
        if s.retiring {
            let name = s.name.clone();
            st.slots.remove(&index);
            return Some(name);
        }
        None
    }

    /// Sets the live slot count: births for new slots, deaths for idle surplus, retiring for busy.
    pub async fn scale(&self, target: usize) {
        let target = target.clamp(1, crate::limits::MAX_SLOTS as usize);
        let _serial = self.scale_lock.lock().await;
        let (born, dead, count) = {
            let mut st = self.state();
            let mut active: Vec<usize> = st
                .slots
                .iter()
                .filter(|(_, s)| !s.retiring)
                .map(|(i, _)| *i)
                .collect();
            let mut born = Vec::new();
            let mut dead = Vec::new();
            // Un-retire before creating new slots: it keeps indexes small and stable.
            let mut retiring: Vec<usize> = st
                .slots
                .iter()
                .filter(|(_, s)| s.retiring)
                .map(|(i, _)| *i)
                .collect();
            while active.len() < target {
                if let Some(i) = retiring.pop() {
                    if let Some(s) = st.slots.get_mut(&i) {
                        s.retiring = false;
                    }
                    active.push(i);
                    continue;
                }
                let i = st.next_index;
                st.next_index += 1;
                let name = self.ident.slot_name(i);
                st.slots.insert(i, Slot::new(name.clone()));
                born.push(name);
                active.push(i);
            }
            active.sort_unstable();
            while active.len() > target {
                let Some(i) = active.pop() else { break };
                let Some(s) = st.slots.get_mut(&i) else {
                    continue;
                };
                if matches!(s.status, Status::Idle) {
                    dead.push(s.name.clone());
                    st.slots.remove(&i);
                } else {
                    s.retiring = true;
                }
            }
            (born, dead, active.len())
        };
        let mut conn = self.conn.clone();
        if !born.is_empty() {
            let slots: Vec<(String, Option<BirthJob>)> =
                born.iter().map(|n| (n.clone(), None)).collect();
            if let Err(e) =
                slot::birth(&mut conn, &self.ident, &slots, count, self.worker_ttl).await
            {
                warn!(error = %e, "scale: birth of new slots failed (the heartbeat retries)");
            }
            self.subscribe(&born).await;
        }
        self.bury(&dead, count).await;
        if let Err(e) = redis::cmd("HSET")
            .arg(keys::pool(&self.ident.pool_id))
            .arg("concurrency")
            .arg(count)
            .query_async::<()>(&mut conn)
            .await
        {
            warn!(error = %e, "scale: pool record update failed");
        }
        self.freed.notify_one();
    }

    /// Clean death of slots that left the table.
    pub async fn bury(&self, names: &[String], remaining: usize) {
        if names.is_empty() {
            return;
        }
        let mut conn = self.conn.clone();
        if let Err(e) = slot::death(
            &mut conn,
            &self.ident,
            names,
            remaining,
            false,
            self.worker_ttl,
        )
        .await
        {
            warn!(error = %e, "slot death write failed; the hashes will expire");
        }
        if let Some(sink) = self.sink.lock().await.as_mut() {
            let chans: Vec<String> = names.iter().map(|n| keys::pubsub(n)).collect();
            let _ = sink.unsubscribe(chans).await;
        }
    }

    pub async fn subscribe(&self, names: &[String]) {
        if let Some(sink) = self.sink.lock().await.as_mut() {
            let chans: Vec<String> = names.iter().map(|n| keys::pubsub(n)).collect();
            if let Err(e) = sink.subscribe(chans).await {
                warn!(error = %e, "pub/sub subscribe failed (the listener resubscribes on reconnect)");
            }
        }
    }

    pub fn slot_count(&self) -> usize {
        self.state().slots.values().filter(|s| !s.retiring).count()
    }
}
