//! The console's event subscription: PSUBSCRIBE `/<db>.celeryev/*` on a connection of its own,
//! feed `worker-*` events to the worker state and `task-*` events to the task records, and
//! count them for Flower's metric names. When Redis goes away the loop says so (`EventStatus`,
//! a log line), waits with backoff and subscribes again by itself; on every (re)subscription it
//! asks the workers for a heartbeat so the worker list fills at once, as Flower does. A second
//! loop refreshes pool sizes and consumed queues through `inspect stats` / `active_queues`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::{control, envelope, tasks, Celery};
use crate::keys::celery as k;

/// Counters behind `flower_*` metrics.
#[derive(Clone, Debug, Default)]
pub struct Flower {
    /// (worker, event type, task name) → events.
    pub events: BTreeMap<(String, String, String), u64>,
    /// (task name, worker) → (count, sum of runtimes, cumulative counts per `RUNTIME_BUCKETS`).
    pub runtime: BTreeMap<(String, String), (u64, f64, Vec<u64>)>,
    /// Task id → name from `task-received` / `task-sent` (later events carry no name).
    names: std::collections::HashMap<String, String>,
}

pub const RUNTIME_BUCKETS: [f64; 10] = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0];
/// Distinct label sets kept (hostile task names cannot grow the console without bound).
const MAX_SERIES: usize = 5000;

/// Runs until the process ends: subscribe, consume, reconnect.
pub async fn run(c: Arc<Celery>) {
    let refresher = tokio::spawn(refresh_inspect(c.clone()));
    let mut backoff = Duration::from_millis(500);
    loop {
        match subscribe_once(&c).await {
            Ok(()) => backoff = Duration::from_millis(500),
            Err(e) => {
                let mut s = c.status.lock().unwrap_or_else(|e| e.into_inner());
                if s.connected || s.last_error.is_none() {
                    tracing::warn!(error = %e, "celery events: subscription lost, reconnecting");
                }
                s.connected = false;
                s.last_error = Some(e.to_string());
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
        if refresher.is_finished() {
            return;
        }
    }
}

async fn subscribe_once(c: &Arc<Celery>) -> crate::Result<()> {
    let mut pubsub = c.broker.client().get_async_pubsub().await?;
    pubsub
        .psubscribe(k::events_pattern(c.prefix(), c.db))
        .await?;
    {
        let mut s = c.status.lock().unwrap_or_else(|e| e.into_inner());
        if s.since.is_some() {
            s.reconnects += 1;
            tracing::info!(reconnects = s.reconnects, "celery events: subscribed again");
        } else {
            tracing::info!("celery events: subscribed");
        }
        s.connected = true;
        s.last_error = None;
        s.since = Some(crate::time::now());
    }
    // Wake the workers up: each answers with a heartbeat event.
    if let Err(e) = control::cast(c, "heartbeat", serde_json::json!({}), None).await {
        tracing::debug!(error = %e, "celery events: heartbeat request failed");
    }
    let mut stream = pubsub.on_message();
    while let Some(msg) = stream.next().await {
        handle(c, msg.get_payload_bytes()).await;
    }
    let mut s = c.status.lock().unwrap_or_else(|e| e.into_inner());
    s.connected = false;
    s.last_error = Some("connection closed".into());
    tracing::warn!("celery events: connection closed, reconnecting");
    Ok(())
}

/// One pub/sub message: an event or, for `task.multi`, a list of them.
pub async fn handle(c: &Celery, raw: &[u8]) {
    let Ok(env) = envelope::parse(raw) else {
        return;
    };
    let events = match env.body {
        Ok(Value::Array(list)) => list,
        Ok(ev @ Value::Object(_)) => vec![ev],
        _ => return,
    };
    for ev in &events {
        apply(c, ev).await;
    }
}

/// Applies one decoded event.
pub async fn apply(c: &Celery, ev: &Value) {
    let typ = ev.get("type").and_then(Value::as_str).unwrap_or("");
    c.status.lock().unwrap_or_else(|e| e.into_inner()).events += 1;
    count(c, ev, typ);
    if typ.starts_with("worker-") {
        c.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .apply(ev, crate::time::now());
    } else if typ.starts_with("task-") {
        match tasks::record(c, ev).await {
            Ok(true) => {
                if let Err(e) = super::history::after_record(c, ev, typ).await {
                    tracing::debug!(error = %e, "celery events: history / groups not updated");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::debug!(error = %e, "celery events: task event not recorded"),
        }
    }
}

fn count(c: &Celery, ev: &Value, typ: &str) {
    let host = ev.get("hostname").and_then(Value::as_str).unwrap_or("");
    let mut f = c.flower.lock().unwrap_or_else(|e| e.into_inner());
    let uuid = ev.get("uuid").and_then(Value::as_str).unwrap_or("");
    if let Some(n) = ev.get("name").and_then(Value::as_str) {
        if f.names.len() >= 50_000 {
            f.names.clear();
        }
        f.names
            .insert(uuid.to_string(), n.chars().take(200).collect());
    }
    let name = f.names.get(uuid).cloned().unwrap_or_default();
    if matches!(typ, "task-succeeded" | "task-failed" | "task-revoked") {
        f.names.remove(uuid);
    }
    let key = (host.to_string(), typ.to_string(), name.clone());
    if f.events.len() < MAX_SERIES || f.events.contains_key(&key) {
        *f.events.entry(key).or_default() += 1;
    }
    if typ == "task-succeeded" {
        if let Some(rt) = ev.get("runtime").and_then(Value::as_f64) {
            let key = (name, host.to_string());
            if f.runtime.len() < MAX_SERIES || f.runtime.contains_key(&key) {
                let e = f
                    .runtime
                    .entry(key)
                    .or_insert_with(|| (0, 0.0, vec![0; RUNTIME_BUCKETS.len()]));
                e.0 += 1;
                e.1 += rt;
                for (i, b) in RUNTIME_BUCKETS.iter().enumerate() {
                    if rt <= *b {
                        e.2[i] += 1;
                    }
                }
            }
        }
    }
}

/// Every 15 s: ask online workers for `stats` and `active_queues` (pool sizes, consumers).
async fn refresh_inspect(c: Arc<Celery>) {
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let online = c
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .online(crate::time::now());
        if !online.is_empty() {
            if let Err(e) = inspect_into_state(&c, &online).await {
                tracing::debug!(error = %e, "celery: inspect refresh failed");
            }
        }
        tokio::time::sleep(Duration::from_secs(13)).await;
    }
}

/// Runs `stats` and `active_queues` for `nodes` and records pool sizes and queues.
pub async fn inspect_into_state(c: &Celery, nodes: &[String]) -> crate::Result<()> {
    let n = Some(nodes.len());
    let stats = control::call(c, "stats", serde_json::json!({}), Some(nodes), n, c.timeout).await?;
    let queues = control::call(
        c,
        "active_queues",
        serde_json::json!({}),
        Some(nodes),
        n,
        c.timeout,
    )
    .await?;
    let mut ws = c.workers.lock().unwrap_or_else(|e| e.into_inner());
    for (node, s) in &stats.replies {
        let size = s.pointer("/pool/max-concurrency").and_then(Value::as_u64);
        ws.inspected(node, size, None);
    }
    for (node, q) in &queues.replies {
        let names = q
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        ws.inspected(node, None, Some(names));
    }
    Ok(())
}
