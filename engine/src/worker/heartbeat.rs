//! Heartbeats: every `heartbeat_interval`, one `heartbeat.lua` call refreshes the pool record,
//! every slot's worker hash (idle ones too) and every running execution's lease (and, under
//! `--limits`, one pipeline pushing the leases of the permits running jobs hold).
//!
//! Two findings come back: slots whose hash expired (e.g. after a long Redis outage) are born
//! again in full, and executions whose started-registry entry is gone (the reaper or an operator
//! took the job) are aborted locally so no ghost duplicate keeps running.

use std::sync::Arc;

use redis::{RedisResult, Value};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::pool::Shared;
use super::slot::{self, BirthJob};
use super::table::AbortKind;
use crate::reply::int;
use crate::scripts::HEARTBEAT;
use crate::{keys, time};

pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(shared.cfg.heartbeat_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = beat_once(&shared).await {
            warn!(error = %e, "heartbeat failed; retrying next interval");
        }
        if let Some(l) = &shared.limiter {
            if let Err(e) = l.refresh(&shared).await {
                warn!(error = %e, "limit lease refresh failed; retrying next interval");
            }
        }
    }
}

pub(crate) async fn beat_once(shared: &Shared) -> RedisResult<()> {
    let beat = shared.beat();
    let now = time::now();
    let mut inv = HEARTBEAT.prepare_invoke();
    inv.key(keys::pool(&shared.ident.pool_id)).key(keys::POOLS);
    for s in &beat.slots {
        inv.key(keys::worker(&s.name));
    }
    for (_, queue, id, x) in &beat.jobs {
        inv.key(keys::started(queue))
            .key(keys::execution(id, x))
            .key(keys::executions(id))
            .key(keys::job(id));
    }
    inv.arg(time::format_rq(now))
        .arg(now.to_string())
        .arg(shared.lease_secs)
        .arg(shared.worker_ttl)
        .arg(beat.slots.len())
        .arg(beat.jobs.len())
        .arg(&shared.ident.pool_id);
    for s in &beat.slots {
        inv.arg(s.working.map(|w| format!("{w:.6}")).unwrap_or_default());
    }
    for (_, _, id, x) in &beat.jobs {
        inv.arg(keys::started_member(id, x)).arg(x);
    }
    let mut conn = shared.conn.clone();
    let reply: Value = inv.invoke_async(&mut conn).await?;
    let (missing, lost) = match reply {
        Value::Array(mut parts) if parts.len() == 2 => {
            let lost = indexes(parts.pop());
            (indexes(parts.pop()), lost)
        }
        _ => (Vec::new(), Vec::new()),
    };
    for j in lost {
        if let Some((_, _, id, x)) = beat.jobs.get(j) {
            warn!(job = ?id, "lease lost while running; aborting the local execution");
            shared.abort_execution(x, AbortKind::LeaseLost);
        }
    }
    if !missing.is_empty() {
        let slots: Vec<(String, Option<BirthJob>)> = missing
            .iter()
            .filter_map(|&i| beat.slots.get(i))
            .map(|s| {
                (
                    s.name.clone(),
                    s.job.as_deref().map(|job_id| BirthJob { job_id }),
                )
            })
            .collect();
        warn!(
            slots = slots.len(),
            "worker hashes had expired; writing them again"
        );
        slot::birth(
            &mut conn,
            &shared.ident,
            &slots,
            shared.slot_count(),
            shared.worker_ttl,
        )
        .await?;
    }
    Ok(())
}

/// 1-based Lua indexes → 0-based.
fn indexes(v: Option<Value>) -> Vec<usize> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(int)
            .map(|i| (i as usize).saturating_sub(1))
            .collect(),
        _ => Vec::new(),
    }
}
