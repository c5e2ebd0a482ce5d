//! The pool's shared state: its slot table behind one short-held mutex, and the Redis writes
//! that follow the table's decisions (births, deaths, pub/sub channels, the pool record).
//!
//! Tasks (dispatcher, finisher, heartbeat, reaper, command listener) share an `Arc<Shared>`.
//! The table itself (`table.rs`) is pure; the methods here lock it for one step each.

use std::sync::{Mutex, MutexGuard};

use redis::aio::{ConnectionManager, PubSubSink};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::slot::{self, BirthJob, Identity};
use super::table::{lock, AbortKind, Beat, Counts, Running, SlotTable};
use super::{Handlers, PoolConfig, PoolReport};
use crate::{keys, Store};

pub(crate) struct State {
    pub table: SlotTable,
    pub report: PoolReport,
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
    /// Concurrency and rate limits (`--limits`); `None` = this pool runs no limit code.
    pub limiter: Option<super::limiter::Limiter>,
}

/// One locked step of the slot table each (see `table.rs` for what they do).
impl Shared {
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn table<R>(&self, f: impl FnOnce(&mut SlotTable) -> R) -> R {
        f(&mut self.state().table)
    }

    pub fn reserve_free(&self) -> Vec<(usize, String)> {
        self.table(|t| t.reserve_free())
    }

    pub fn finishing(&self, slots: &[usize], claim: bool) -> Vec<(bool, Counts)> {
        self.table(|t| t.finishing(slots, claim))
    }

    pub fn assign(&self, index: usize, running: Running) {
        self.table(|t| t.assign(index, running))
    }

    pub fn unreserve(&self, reserved: &[(usize, String)]) -> Vec<String> {
        self.table(|t| t.unreserve(reserved))
    }

    pub fn release(&self, index: usize) -> Option<String> {
        self.table(|t| t.release(index))
    }

    pub fn busy_count(&self) -> usize {
        self.table(|t| t.busy_count())
    }

    pub fn slot_count(&self) -> usize {
        self.table(|t| t.slot_count())
    }

    pub fn slot_names(&self) -> Vec<String> {
        self.table(|t| t.names())
    }

    pub fn busy_names(&self) -> Vec<String> {
        self.table(|t| t.busy_names())
    }

    pub fn idle_names(&self) -> Vec<String> {
        self.table(|t| t.idle_names())
    }

    pub fn abort_slot(&self, name: &str, kind: AbortKind, job_id: Option<&str>) -> bool {
        self.table(|t| t.abort_slot(name, kind, job_id))
    }

    pub fn abort_execution(&self, exec_id: &str, kind: AbortKind) {
        self.table(|t| t.abort_execution(exec_id, kind))
    }

    pub fn abort_all(&self, kind: AbortKind) {
        self.table(|t| t.abort_all(kind))
    }

    pub fn beat(&self) -> Beat {
        self.table(|t| t.beat())
    }

    /// Sets the live slot count: births for new slots, deaths for idle surplus, retiring for busy.
    pub async fn scale(&self, target: usize) {
        let _serial = self.scale_lock.lock().await;
        let plan = self.table(|t| t.plan_scale(target, |i| self.ident.slot_name(i)));
        let (born, dead, count) = (plan.born, plan.dead, plan.count);
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
}
