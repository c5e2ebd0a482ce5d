//! The pool's slot table, pure: which slots exist, what each one runs, and what a scale changes.
//! No Redis and no tasks here: `pool::Shared` keeps the table behind its mutex and writes the
//! births and deaths the table decides, so every transition is unit-tested without a server.
//!
//! A slot is `Idle`, `Reserved` (the dispatcher is claiming for it) or `Busy`; scale-down marks
//! reserved/busy slots `retiring` and they die as soon as they are idle again. Slot indexes are
//! never reused: a slot dying (its death written outside the lock) can then never race with the
//! birth of a namesake.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::limits::MAX_SLOTS;

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

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the slot table half-written in a way that
    // matters more than stopping the worker would; keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    fn new(name: String) -> Slot {
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

/// What a scale decided; the caller writes it to Redis.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ScalePlan {
    /// New slots, to be born.
    pub born: Vec<String>,
    /// Idle surplus slots, already out of the table: to be buried.
    pub dead: Vec<String>,
    /// Busy or reserved surplus slots, now retiring: they die when their job ends.
    pub retiring: Vec<String>,
    /// The live (non-retiring) slot count afterwards.
    pub count: usize,
}

#[derive(Default)]
pub(crate) struct SlotTable {
    slots: BTreeMap<usize, Slot>,
    /// Index of the next slot created by a scale-up.
    next_index: usize,
}

impl SlotTable {
    /// `count` idle slots, indexes `0..count`, slot i named `name(i)`.
    pub fn new(count: usize, name: impl Fn(usize) -> String) -> SlotTable {
        SlotTable {
            slots: (0..count).map(|i| (i, Slot::new(name(i)))).collect(),
            next_index: count,
        }
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut Slot> {
        self.slots.get_mut(&index)
    }

    /// Marks every idle, non-retiring slot reserved and returns them (index, name).
    pub fn reserve_free(&mut self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, s) in self.slots.iter_mut() {
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
    pub fn finishing(&mut self, slots: &[usize], claim: bool) -> Vec<(bool, Counts)> {
        slots
            .iter()
            .map(|i| match self.slots.get_mut(i) {
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
    pub fn assign(&mut self, index: usize, running: Running) {
        if let Some(s) = self.slots.get_mut(&index) {
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
    pub fn unreserve(&mut self, reserved: &[(usize, String)]) -> Vec<String> {
        let mut dead = Vec::new();
        for (i, _) in reserved {
            let Some(s) = self.slots.get_mut(i) else {
                continue;
            };
            if matches!(s.status, Status::Reserved) {
                s.idle();
                if s.retiring {
                    dead.push(s.name.clone());
                    self.slots.remove(i);
                }
            }
        }
        dead
    }

    /// Frees the slot after its finish write; returns its name if it must now die (retiring).
    pub fn release(&mut self, index: usize) -> Option<String> {
        let s = self.slots.get_mut(&index)?;
        s.idle();
        if s.retiring {
            let name = s.name.clone();
            self.slots.remove(&index);
            return Some(name);
        }
        None
    }

    /// Plans a scale to `target` live slots (clamped to 1..=`MAX_SLOTS`) and applies it to the
    /// table: retiring slots are kept first (it keeps indexes small and stable), then new slots
    /// are born; surplus idle slots die at once, the highest indexes first, busy or reserved ones
    /// retire.
    pub fn plan_scale(&mut self, target: usize, name: impl Fn(usize) -> String) -> ScalePlan {
        let target = target.clamp(1, MAX_SLOTS as usize);
        let mut plan = ScalePlan::default();
        let mut active: Vec<usize> = self
            .slots
            .iter()
            .filter(|(_, s)| !s.retiring)
            .map(|(i, _)| *i)
            .collect();
        let mut retiring: Vec<usize> = self
            .slots
            .iter()
            .filter(|(_, s)| s.retiring)
            .map(|(i, _)| *i)
            .collect();
        while active.len() < target {
            if let Some(i) = retiring.pop() {
                if let Some(s) = self.slots.get_mut(&i) {
                    s.retiring = false;
                }
                active.push(i);
                continue;
            }
            let i = self.next_index;
            self.next_index += 1;
            let n = name(i);
            self.slots.insert(i, Slot::new(n.clone()));
            plan.born.push(n);
            active.push(i);
        }
        active.sort_unstable();
        while active.len() > target {
            let Some(i) = active.pop() else { break };
            let Some(s) = self.slots.get_mut(&i) else {
                continue;
            };
            if matches!(s.status, Status::Idle) {
                plan.dead.push(s.name.clone());
                self.slots.remove(&i);
            } else {
                s.retiring = true;
                plan.retiring.push(s.name.clone());
            }
        }
        plan.count = active.len();
        plan
    }

    /// Live slots: the ones not retiring.
    pub fn slot_count(&self) -> usize {
        self.slots.values().filter(|s| !s.retiring).count()
    }

    pub fn busy_count(&self) -> usize {
        self.slots
            .values()
            .filter(|s| matches!(s.status, Status::Busy(_)))
            .count()
    }

    pub fn names(&self) -> Vec<String> {
        self.slots.values().map(|s| s.name.clone()).collect()
    }

    pub fn busy_names(&self) -> Vec<String> {
        self.names_where(|s| matches!(s, Status::Busy(_)))
    }

    pub fn idle_names(&self) -> Vec<String> {
        self.names_where(|s| matches!(s, Status::Idle))
    }

    fn names_where(&self, f: impl Fn(&Status) -> bool) -> Vec<String> {
        self.slots
            .values()
            .filter(|s| f(&s.status))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Aborts the job of slot `name`; with `job_id`, only if that slot runs exactly that job.
    /// While a claim for the slot is in flight, the command is also kept for the job it gets:
    /// Redis shows that job as started before the pool has it (a kill sent on sight).
    pub fn abort_slot(&mut self, name: &str, kind: AbortKind, job_id: Option<&str>) -> bool {
        let Some(s) = self.slots.values_mut().find(|s| s.name == name) else {
            return false;
        };
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
        hit
    }

    /// Aborts the job with this execution id, if it still runs (lease lost).
    pub fn abort_execution(&self, exec_id: &str, kind: AbortKind) {
        for r in self.running() {
            if r.exec_id == exec_id {
                r.abort.fire(kind);
            }
        }
    }

    pub fn abort_all(&self, kind: AbortKind) {
        for r in self.running() {
            r.abort.fire(kind);
        }
    }

    fn running(&self) -> impl Iterator<Item = &Running> {
        self.slots.values().filter_map(|s| match &s.status {
            Status::Busy(r) => Some(r),
            _ => None,
        })
    }

    pub fn beat(&self) -> Beat {
        let mut b = Beat {
            slots: Vec::new(),
            jobs: Vec::new(),
        };
        for (i, s) in self.slots.iter() {
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
}

#[cfg(test)]
mod tests;
