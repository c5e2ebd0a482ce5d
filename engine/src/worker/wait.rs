//! The blocking wait for work, used when a claim found every queue empty: one `BLMOVE
//! rq:queue:<q> rq:queue:<q>:intermediate` per queue, each on a dedicated connection of its own
//! (a *lane*), all blocked at once. The first lane to return wakes the dispatcher, which hands
//! the popped id(s) to `claim.lua`.
//!
//! # Why this design
//! A job must never exist only in a client's memory. BLPOP/BLMPOP over several queues return
//! the id *removed* from Redis, so a SIGKILL before `claim.lua` runs loses it (RQ's own
//! multi-queue worker has exactly that hole, trap 13 of the schema notes). BLMOVE is the only
//! blocking pop that leaves the id in Redis — in the intermediate list RQ already defines — but
//! it takes one source key, hence one blocked command per queue:
//! - **No loss**: between a lane's pop and the claim the id sits in `…:intermediate`; if the
//!   process dies there, any live reaper (`reap.lua`) puts it back at the queue head once it has
//!   sat there for the grace period. `claim.lua` takes a pre-popped id only if its own `LREM`
//!   removed it, so an id the reaper has already handed back is never started twice.
//! - **Queue order**: several lanes may fire together; `claim.lua` orders them by queue (a
//!   pre-popped id was its queue's head, so it goes before that queue's rest) and pops the
//!   higher queues first, so a job arriving in queue 1 meanwhile still wins. Ids it has no slot
//!   for go back to the head of their queue. (Jobs that arrive in several queues in the same
//!   instant while the pool waits are taken in the order Redis serves the lanes, as RQ's BLPOP
//!   takes them; jobs already waiting always go in queue order.)
//! - **No polling, no added latency**: every lane blocks up to `store::MAX_BLOCK_SECS`, and a
//!   job on *any* queue wakes its lane at once. An idle pool sends `nq` BLMOVEs per
//!   `MAX_BLOCK_SECS` (0.6/s on three queues) for fetching, nothing else. The alternative
//!   of one BLMOVE on the first queue with a short timeout plus non-blocking checks of the
//!   others makes every lower queue wait up to that timeout and turns the timeout into a poll
//!   rate (0.1 s → 20 commands/s idle); it was rejected for that.
//! - **No prefetch**: lanes are armed only while a slot is free. When the last free slot is
//!   taken the armed lanes are unblocked (`CLIENT UNBLOCK`, one pipeline) so no job is held
//!   away from idle workers elsewhere; an id popped in that instant goes back to its queue head.
//! - **Cost**: `nq` dedicated connections per process (plus the shared one and pub/sub); the
//!   unblock round trip only when a pool goes from idle to full. The hot path is untouched:
//!   under load a finishing slot claims its next job inside `finish.lua` and no lane is armed.
//!
//! A blocked command is never dropped mid-flight: disarming unblocks it and reads its reply.
//! Only if no reply comes within 2 s are the lane's connections closed, and then whatever it may
//! have popped is in the intermediate list, for the reaper.

use std::future::Future;
use std::pin::Pin;
#[cfg(debug_assertions)]
use std::sync::OnceLock;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use redis::aio::MultiplexedConnection;
use redis::{RedisResult, Value};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::pool::Shared;
use crate::reply::text;
use crate::{keys, store};

/// An id a lane moved into its queue's intermediate list, not yet claimed.
#[derive(Clone, Debug)]
pub(crate) struct Popped {
    pub id: String,
    /// Index into the configured queues.
    pub queue: usize,
}

type InFlight = Pin<Box<dyn Future<Output = (usize, RedisResult<Value>)> + Send>>;

/// One blocking lane per configured queue.
pub(crate) struct Lanes {
    /// Each lane's connection and its `CLIENT ID` (for `CLIENT UNBLOCK`), made lazily.
    conns: Vec<Option<(MultiplexedConnection, i64)>>,
    armed: Vec<bool>,
    in_flight: FuturesUnordered<InFlight>,
}

impl Lanes {
    pub fn new(queues: usize) -> Lanes {
        Lanes {
            conns: (0..queues).map(|_| None).collect(),
            armed: vec![false; queues],
            in_flight: FuturesUnordered::new(),
        }
    }

    pub fn armed(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// Arms every idle lane, then waits for the first to return (or `cancel`). Returns what the
    /// lanes popped — the first one's id and any other that returned by then — and the first
    /// error, if a lane failed (its connection is remade on the next call).
    pub async fn wait(
        &mut self,
        shared: &Shared,
        cancel: &CancellationToken,
    ) -> (Vec<Popped>, Option<crate::Error>) {
        if let Err(e) = self.arm(shared).await {
            return (Vec::new(), Some(e));
        }
        let mut out = (Vec::new(), None);
        let first = tokio::select! {
            biased;
            r = self.in_flight.next() => r,
            _ = cancel.cancelled() => None,
        };
        let Some(first) = first else {
            return out;
        };
        self.settle(first, &mut out);
        while let Some(Some(r)) = self.in_flight.next().now_or_never() {
            self.settle(r, &mut out);
        }
        crash_point(!out.0.is_empty());
        out
    }

    /// Unblocks every armed lane and returns what they popped meanwhile (for the caller to
    /// claim or give back).
    pub async fn disarm(&mut self, shared: &Shared) -> Vec<Popped> {
        let mut out = (Vec::new(), None);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while !self.in_flight.is_empty() && tokio::time::Instant::now() < deadline {
            // Repeated: an UNBLOCK that reaches Redis before its BLMOVE does is a no-op.
            let mut p = redis::pipe();
            for (conn, armed) in self.conns.iter().zip(&self.armed) {
                if let (Some((_, id)), true) = (conn, armed) {
                    p.cmd("CLIENT").arg("UNBLOCK").arg(*id).ignore();
                }
            }
            let mut c = shared.conn.clone();
            let _: RedisResult<()> = p.query_async(&mut c).await;
            let _ = tokio::time::timeout(Duration::from_millis(200), async {
                while let Some(r) = self.in_flight.next().await {
                    self.settle(r, &mut out);
                }
            })
            .await;
        }
        if !self.in_flight.is_empty() {
            warn!("blocking waits did not return after CLIENT UNBLOCK; closing their connections");
            self.in_flight.clear();
            for (conn, armed) in self.conns.iter_mut().zip(self.armed.iter_mut()) {
                if *armed {
                    *conn = None;
                    *armed = false;
                }
            }
        }
        out.0
    }

    /// Starts a BLMOVE on every lane that has none in flight.
    async fn arm(&mut self, shared: &Shared) -> crate::Result<()> {
        for (qi, q) in shared.cfg.queues.iter().enumerate() {
            if self.armed[qi] {
                continue;
            }
            if self.conns[qi].is_none() {
                let mut c = shared.store.dedicated().await?;
                let id: i64 = redis::cmd("CLIENT").arg("ID").query_async(&mut c).await?;
                self.conns[qi] = Some((c, id));
            }
            let Some((conn, _)) = &self.conns[qi] else {
                continue;
            };
            let mut conn = conn.clone();
            let mut cmd = redis::cmd("BLMOVE");
            cmd.arg(keys::queue(q))
                .arg(keys::intermediate(q))
                .arg("LEFT")
                .arg("RIGHT")
                .arg(store::MAX_BLOCK_SECS);
            self.in_flight.push(Box::pin(async move {
                (qi, cmd.query_async::<Value>(&mut conn).await)
            }));
            self.armed[qi] = true;
        }
        Ok(())
    }

    /// Records one lane's reply: an id, a timeout (nil), or an error (connection remade later).
    fn settle(
        &mut self,
        (qi, reply): (usize, RedisResult<Value>),
        out: &mut (Vec<Popped>, Option<crate::Error>),
    ) {
        self.armed[qi] = false;
        match reply {
            Ok(v) => {
                if let Some(id) = text(&v) {
                    out.0.push(Popped { id, queue: qi });
                }
            }
            Err(e) => {
                self.conns[qi] = None;
                out.1.get_or_insert(e.into());
            }
        }
    }
}

/// Debug builds only: `TASKMILL_CRASH_AFTER_POP=<p>` SIGKILLs the process with probability `p`
/// right after a lane popped an id and before it is claimed — the window this module exists for
/// (`tests/it/worker/fetch.rs` runs worker processes with it). Compiled out of release builds.
fn crash_point(popped: bool) {
    #[cfg(debug_assertions)]
    if popped {
        static P: OnceLock<f64> = OnceLock::new();
        let p = *P.get_or_init(|| {
            std::env::var("TASKMILL_CRASH_AFTER_POP")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        });
        if p > 0.0 && rand::random::<f64>() < p {
            // SAFETY: kill(2) on our own pid; nothing else is touched.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = popped;
}
