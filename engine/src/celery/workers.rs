//! Workers from events, as celery's own `State` and Flower keep them, plus what they miss:
//! alive = a heartbeat within 2 × `freq` of now; `worker-offline` ends it at once; offline
//! workers stay listed (greyed) for `OFFLINE_KEPT` instead of vanishing. Pure state: the event
//! task feeds it, tests drive it with explicit clocks.

use std::collections::HashMap;

use serde_json::Value;

use super::types::CeleryWorker;

/// How long an offline worker stays listed.
pub const OFFLINE_KEPT: f64 = 3600.0;
/// Workers tracked at most (a flood of fake hostnames cannot grow the console without bound).
pub const MAX_WORKERS: usize = 10_000;

#[derive(Default)]
pub struct Workers {
    by_name: HashMap<String, CeleryWorker>,
}

impl Workers {
    /// Applies one `worker-*` event received at `now` (console clock: worker clocks may skew).
    pub fn apply(&mut self, ev: &Value, now: f64) {
        let Some(typ) = ev.get("type").and_then(Value::as_str) else {
            return;
        };
        let Some(host) = ev.get("hostname").and_then(Value::as_str) else {
            return;
        };
        if !self.by_name.contains_key(host) && self.by_name.len() >= MAX_WORKERS {
            return;
        }
        let w = self
            .by_name
            .entry(host.to_string())
            .or_insert_with(|| CeleryWorker {
                hostname: host.to_string(),
                freq: 2.0,
                ..Default::default()
            });
        if let Some(f) = ev.get("freq").and_then(Value::as_f64).filter(|f| *f > 0.0) {
            w.freq = f;
        }
        if let Some(a) = ev.get("active").and_then(Value::as_u64) {
            w.active = a;
        }
        if let Some(p) = ev.get("processed").and_then(Value::as_u64) {
            w.processed = p;
        }
        if let Some(l) = ev.get("loadavg").and_then(Value::as_array) {
            w.loadavg = l.iter().filter_map(Value::as_f64).collect();
        }
        if let Some(v) = ev.get("sw_ver").and_then(Value::as_str) {
            w.sw_ver = Some(v.to_string());
        }
        match typ {
            "worker-online" | "worker-heartbeat" => {
                w.last_heartbeat = Some(now);
                w.offline_since = None;
            }
            "worker-offline" => {
                w.last_heartbeat = None;
                w.active = 0;
                w.offline_since = Some(now);
            }
            _ => {}
        }
    }

    /// Records what `inspect stats` / `active_queues` said about `host` (known workers only).
    pub fn inspected(&mut self, host: &str, pool_size: Option<u64>, queues: Option<Vec<String>>) {
        if let Some(w) = self.by_name.get_mut(host) {
            if pool_size.is_some() {
                w.pool_size = pool_size;
            }
            if let Some(q) = queues {
                w.queues = q;
            }
        }
    }

    /// Workers at `now`, online first then by name; drops those offline past `OFFLINE_KEPT`.
    pub fn list(&mut self, now: f64) -> Vec<CeleryWorker> {
        self.by_name.retain(|_, w| {
            let gone = gone_since(w);
            gone.is_none_or(|since| now - since < OFFLINE_KEPT)
        });
        let mut out: Vec<CeleryWorker> = self
            .by_name
            .values()
            .map(|w| {
                let mut w = w.clone();
                w.online = alive(&w, now);
                if !w.online {
                    w.offline_since = gone_since(&w);
                }
                w
            })
            .collect();
        out.sort_by(|a, b| b.online.cmp(&a.online).then(a.hostname.cmp(&b.hostname)));
        out
    }

    /// Names of online workers.
    pub fn online(&self, now: f64) -> Vec<String> {
        self.by_name
            .values()
            .filter(|w| alive(w, now))
            .map(|w| w.hostname.clone())
            .collect()
    }
}

/// Celery's `Worker.alive`: a heartbeat newer than 2 × freq.
pub fn alive(w: &CeleryWorker, now: f64) -> bool {
    w.last_heartbeat.is_some_and(|hb| now < hb + 2.0 * w.freq)
}

/// When the worker stopped being alive: its goodbye, or its last heartbeat's window end.
fn gone_since(w: &CeleryWorker) -> Option<f64> {
    w.offline_since
        .or_else(|| w.last_heartbeat.map(|hb| hb + 2.0 * w.freq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn heartbeat_window_and_goodbye() {
        let mut ws = Workers::default();
        ws.apply(
            &json!({"type": "worker-online", "hostname": "w1@h", "freq": 2.0,
                          "active": 0, "processed": 0}),
            100.0,
        );
        ws.apply(
            &json!({"type": "worker-heartbeat", "hostname": "w1@h", "freq": 2.0,
                          "active": 1, "processed": 5, "loadavg": [0.5, 0.1, 0.0]}),
            102.0,
        );
        let l = ws.list(105.9);
        assert!(l[0].online);
        assert_eq!((l[0].active, l[0].processed), (1, 5));
        // 2 × freq after the last heartbeat: offline (a SIGKILL sends no goodbye).
        let l = ws.list(106.0);
        assert!(!l[0].online);
        assert_eq!(l[0].offline_since, Some(106.0));
        // Kept greyed, then dropped.
        assert_eq!(ws.list(106.0 + OFFLINE_KEPT - 1.0).len(), 1);
        assert!(ws.list(106.0 + OFFLINE_KEPT).is_empty());

        ws.apply(&json!({"type": "worker-online", "hostname": "w2@h"}), 200.0);
        ws.apply(
            &json!({"type": "worker-offline", "hostname": "w2@h"}),
            201.0,
        );
        let l = ws.list(201.5);
        assert!(!l[0].online);
        assert_eq!(l[0].offline_since, Some(201.0));
        ws.apply(
            &json!({"type": "worker-heartbeat", "hostname": "w2@h", "freq": 5.0}),
            300.0,
        );
        assert!(
            ws.list(309.0)[0].online,
            "freq from the event widens the window"
        );
        ws.inspected("w2@h", Some(3), Some(vec!["celery".into()]));
        assert_eq!(ws.list(300.0)[0].pool_size, Some(3));
    }
}
