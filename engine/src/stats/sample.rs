//! The console's sampler: gauges per queue and Python workers' counter deltas, once per interval
//! across every console sharing the Redis (`SET NX EX` on a lock named after the interval slot;
//! the losers skip the slot without reading anything).

use crate::keys;
use crate::model::Snapshot;
use crate::scripts::STATS_SAMPLE;
use crate::{Result, Store};

/// What one sampling tick did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleOutcome {
    /// This console wrote the interval's sample; Python workers' jobs it counted.
    Written { finished: u64, failed: u64 },
    /// Another console holds this interval's lock.
    Skipped,
}

/// Takes one sample for the interval slot holding `now` (unix seconds), unless another console
/// already did: a snapshot, then one script call.
pub async fn sample(store: &Store, now: i64, interval_s: u64) -> Result<SampleOutcome> {
    let interval = interval_s.max(1);
    let slot = now.div_euclid(interval as i64);
    let mut conn = store.conn();
    let won: Option<String> = redis::cmd("SET")
        .arg(keys::stats_lock(interval, slot))
        .arg(now)
        .arg("NX")
        .arg("EX")
        .arg(interval * 2)
        .query_async(&mut conn)
        .await?;
    if won.is_none() {
        return Ok(SampleOutcome::Skipped);
    }
    let snap = crate::snapshot::take(store).await?;
    write(store, &snap, now).await
}

/// Writes the sample of `snap` into the buckets holding `now` (no lock: [`sample`] holds it).
pub async fn write(store: &Store, snap: &Snapshot, now: i64) -> Result<SampleOutcome> {
    let mut inv = STATS_SAMPLE.prepare_invoke();
    inv.arg(now).arg(snap.queues.len());
    let live: Vec<_> = snap.workers.iter().filter(|w| !w.stale).collect();
    let (mut depth, mut started, mut latency) = (0u64, 0u64, None::<f64>);
    for q in &snap.queues {
        let listening = live.iter().filter(|w| w.queues.contains(&q.name));
        let busy = listening.clone().filter(|w| w.state == "busy").count() as u64;
        let idle = listening.filter(|w| w.state != "busy").count() as u64;
        inv.arg(&q.name)
            .arg(packed(q.queued, q.started, q.oldest_queued_age, busy, idle));
        depth += q.queued;
        started += q.started;
        latency = match (latency, q.oldest_queued_age) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    let busy = live.iter().filter(|w| w.state == "busy").count() as u64;
    let idle = live.len() as u64 - busy;
    inv.arg(packed(depth, started, latency, busy, idle));
    // Taskmill slots record their own jobs in finish.lua.
    let python: Vec<_> = live.iter().filter(|w| w.pool.is_none()).collect();
    inv.arg(python.len());
    for w in python {
        inv.arg(&w.name)
            .arg(w.successful_job_count)
            .arg(w.failed_job_count)
            .arg(
                w.birth
                    .map(|b| format!("{:.0}", b.floor()))
                    .unwrap_or_default(),
            )
            .arg(w.queues.first().map(String::as_str).unwrap_or(""));
    }
    let mut conn = store.conn();
    let (finished, failed): (u64, u64) = inv.invoke_async(&mut conn).await?;
    Ok(SampleOutcome::Written { finished, failed })
}

/// `depth started latency busy idle`, latency `-` when the queue is empty.
fn packed(depth: u64, started: u64, latency: Option<f64>, busy: u64, idle: u64) -> String {
    let latency = latency.map_or("-".to_string(), |l| format!("{:.3}", l.max(0.0)));
    format!("{depth} {started} {latency} {busy} {idle}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn packs_gauges() {
        assert_eq!(super::packed(3, 1, None, 2, 0), "3 1 - 2 0");
        assert_eq!(super::packed(3, 1, Some(1.23456), 2, 0), "3 1 1.235 2 0");
    }
}
