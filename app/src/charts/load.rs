//! (ssr) Which series each chart shows, read through the backend's stats API and rendered once
//! per `FRESH` for every request: the cache is keyed by (chart, queue, range) and renewed by
//! one request at a time while the others keep the previous rendering, so a page load costs no
//! render and no Redis read for its charts under steady traffic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::model::{StatsMetric, StatsRange, DURATION_BOUNDS};

use super::render::{render, Line, Spec, Unit};
use super::{ChartView, Kind};
use crate::state::Console;

/// How long a rendering is served (the feed's stats tick is 10 s; counters move every job).
pub const FRESH: Duration = Duration::from_secs(5);
/// Queues drawn by name on a per-queue chart of all queues (the fullest for depth, the oldest
/// for age); any others share one more line, so every queue is on the chart and the lines
/// keep distinct colours (the palette has 8).
pub const MAX_LINES: usize = 7;
/// Bound on cached renderings (charts × queues × ranges); the cache is emptied beyond it.
const MAX_ENTRIES: usize = 2048;

type Key = (Kind, Option<String>, &'static str);

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<Key, (Instant, Arc<ChartView>)>>,
    refresh: tokio::sync::Mutex<()>,
}

impl Cache {
    fn get(&self, key: &Key) -> Option<(Duration, Arc<ChartView>)> {
        let e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        e.get(key).map(|(at, v)| (at.elapsed(), v.clone()))
    }
    fn put(&self, key: Key, v: Arc<ChartView>) {
        let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if e.len() >= MAX_ENTRIES {
            e.clear();
        }
        e.insert(key, (Instant::now(), v));
    }
}

/// The chart `kind` of `queue` (or all queues) over `range`, at most `FRESH` old.
pub async fn chart(
    console: &Arc<Console>,
    kind: Kind,
    queue: Option<&str>,
    range: &'static str,
) -> Arc<ChartView> {
    let key: Key = (kind, queue.map(str::to_string), range);
    let cache = &console.charts;
    let stale = match cache.get(&key) {
        Some((age, v)) if age < FRESH => return v,
        other => other.map(|(_, v)| v),
    };
    let _guard = match (stale, cache.refresh.try_lock()) {
        (_, Ok(g)) => g,
        (Some(v), Err(_)) => return v,
        (None, Err(_)) => cache.refresh.lock().await,
    };
    if let Some((age, v)) = cache.get(&key) {
        if age < FRESH {
            return v;
        }
    }
    let view = Arc::new(build(console, kind, queue, range).await);
    if view.error.is_none() {
        cache.put(key, view.clone());
    }
    view
}

/// Reads the series and renders them (uncached).
pub async fn build(
    console: &Arc<Console>,
    kind: Kind,
    queue: Option<&str>,
    range: &'static str,
) -> ChartView {
    let per = if range == "1h" || range == "24h" {
        "minute"
    } else {
        "hour"
    };
    let (title, unit) = match kind {
        Kind::Throughput => (format!("Jobs finished and failed per {per}"), Unit::Count),
        Kind::Depth => ("Queued jobs".to_string(), Unit::Count),
        Kind::Age => ("Age of the oldest queued job".to_string(), Unit::Seconds),
        Kind::Busy => ("Busy share of the workers".to_string(), Unit::Share),
    };
    // (metric, queue, label) per line; `rest`: how many queues the last, summary line covers.
    let mut rest = 0;
    let wanted: Vec<(&str, Option<String>, String)> = match (kind, queue) {
        (Kind::Throughput, q) => vec![
            ("finished", q.map(str::to_string), "finished".into()),
            ("failed", q.map(str::to_string), "failed".into()),
        ],
        (Kind::Busy, _) => vec![("busy", None, "busy".into())],
        (Kind::Depth | Kind::Age, Some(q)) => vec![(metric(kind), Some(q.into()), q.into())],
        (Kind::Depth | Kind::Age, None) => match top_queues(console, kind).await {
            Ok((qs, others)) => {
                rest = others;
                qs.into_iter()
                    .map(|q| (metric(kind), Some(q.clone()), q))
                    .collect()
            }
            Err(e) => return failed(kind, queue, range, title, e),
        },
    };
    let mut series = Vec::with_capacity(wanted.len());
    let mut step_s = 60;
    for (m, q, label) in wanted {
        match load_series(console, m, q.as_deref(), range).await {
            Ok((step, points)) => {
                step_s = step;
                series.push((label, points));
            }
            Err(e) => return failed(kind, queue, range, title, e),
        }
    }
    if rest > 0 {
        // The all-queues scope holds, per sample, the depth summed over every queue and the
        // oldest age of any queue (engine::stats::sample).
        match load_series(console, metric(kind), None, range).await {
            Ok((_, all)) => series.push(summary(kind, rest, all, &series)),
            Err(e) => return failed(kind, queue, range, title, e),
        }
    }
    let lines: Vec<Line<'_>> = series
        .iter()
        .map(|(label, points)| Line {
            label: label.clone(),
            points,
        })
        .collect();
    let spec = Spec {
        kind,
        queue: queue.map(str::to_string),
        range: range.to_string(),
        title,
        unit,
        step_s,
    };
    render(&spec, &lines)
}

fn metric(kind: Kind) -> &'static str {
    match kind {
        Kind::Age => "latency",
        _ => "depth",
    }
}

/// The queues drawn by name (the fullest for depth, those with the oldest queued job for age,
/// then by name), from the shared snapshot, and how many others there are.
async fn top_queues(
    console: &Arc<Console>,
    kind: Kind,
) -> Result<(Vec<String>, usize), engine::Error> {
    let snap = console.snapshot().await?;
    let mut qs: Vec<_> = snap
        .queues
        .iter()
        .map(|q| {
            let weight = match kind {
                Kind::Age => q.oldest_queued_age.unwrap_or(-1.0),
                _ => q.queued as f64,
            };
            (weight, &q.name)
        })
        .collect();
    qs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let others = qs.len().saturating_sub(MAX_LINES);
    let named = qs.into_iter().take(MAX_LINES).map(|(_, n)| n.clone());
    Ok((named.collect(), others))
}

type Points = Vec<(i64, Option<f64>)>;

/// The line for the `rest` queues not drawn by name, from the all-queues series `all`: for
/// depth the total minus the named queues ("other queues (N)"), for age the oldest job of any
/// queue ("oldest of all N queues"), since ages do not add up.
fn summary(kind: Kind, rest: usize, all: Points, named: &[(String, Points)]) -> (String, Points) {
    if kind == Kind::Age {
        let label = format!("oldest of all {} queues", rest + named.len());
        return (label, all);
    }
    let points = all
        .iter()
        .enumerate()
        .map(|(i, &(t, total))| {
            let shown: f64 = named.iter().filter_map(|(_, p)| p.get(i)?.1).sum();
            (t, total.map(|total| (total - shown).max(0.0)))
        })
        .collect();
    (format!("other queues ({rest})"), points)
}

fn failed(
    kind: Kind,
    queue: Option<&str>,
    range: &str,
    title: String,
    e: engine::Error,
) -> ChartView {
    ChartView {
        kind,
        queue: queue.map(str::to_string),
        range: range.to_string(),
        title,
        plot: String::new(),
        ticks: vec![],
        legend: vec![],
        empty: false,
        error: Some(crate::components::status::redis_error_text(&e)),
    }
}

/// One series from the backend's stats: `(step_s, points)`, oldest first, one per bucket.
/// `busy` is the busy share, busy / (busy + idle) per bucket (`None` where either is unsampled
/// or no worker was registered).
async fn load_series(
    console: &Arc<Console>,
    metric: &str,
    queue: Option<&str>,
    range: &str,
) -> Result<(i64, Vec<(i64, Option<f64>)>), engine::Error> {
    let range = StatsRange::parse(range).unwrap_or_default();
    let read = |m: StatsMetric| console.backend.stats_series(m, queue, range);
    if metric == "busy" {
        let busy = read(StatsMetric::Busy).await?;
        let idle = read(StatsMetric::Idle).await?;
        let points = busy
            .points
            .iter()
            .zip(&idle.points)
            .map(|(&(t, b), &(_, i))| match (b, i) {
                (Some(b), Some(i)) if b + i > 0.0 => (t, Some(b / (b + i))),
                _ => (t, None),
            })
            .collect();
        return Ok((busy.step_s as i64, points));
    }
    let m = StatsMetric::parse(metric).unwrap_or(StatsMetric::Finished);
    let s = read(m).await?;
    Ok((s.step_s as i64, s.points))
}

/// Several charts of one page (each from the cache when fresh).
pub async fn views(
    console: &Arc<Console>,
    kinds: &[Kind],
    queue: Option<&str>,
    range: &'static str,
) -> Vec<ChartView> {
    let mut out = Vec::with_capacity(kinds.len());
    for kind in kinds {
        out.push((*chart(console, *kind, queue, range).await).clone());
    }
    out
}

/// The Metrics page's rows and the histogram's bucket bounds (seconds).
pub async fn functions(
    console: &Arc<Console>,
    range: &str,
) -> Result<(Vec<crate::pages::stats::FnRow>, Vec<f64>), engine::Error> {
    let range = StatsRange::parse(range).unwrap_or_default();
    let rows = console.backend.stats_functions(range).await?;
    let rows = rows
        .into_iter()
        .map(|f| {
            let ran = f.count > 0;
            crate::pages::stats::FnRow {
                p50_s: ran.then_some(f.p50_s),
                p95_s: ran.then_some(f.p95_s),
                p99_s: ran.then_some(f.p99_s),
                function: f.function,
                count: f.count,
                failed: f.failed,
                total_s: f.total_s,
                histogram: f.histogram,
            }
        })
        .collect();
    Ok((rows, DURATION_BOUNDS.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_queues_are_the_total_minus_the_named_ones() {
        let named = vec![
            (
                "a".to_string(),
                vec![(0, Some(5.0)), (60, None), (120, Some(1.0))],
            ),
            (
                "b".to_string(),
                vec![(0, Some(2.0)), (60, Some(1.0)), (120, Some(1.0))],
            ),
        ];
        let all = vec![(0, Some(10.0)), (60, Some(4.0)), (120, None)];
        let (label, points) = summary(Kind::Depth, 3, all.clone(), &named);
        assert_eq!(label, "other queues (3)");
        assert_eq!(points, vec![(0, Some(3.0)), (60, Some(3.0)), (120, None)]);
        let (label, points) = summary(Kind::Age, 3, all.clone(), &named);
        assert_eq!(label, "oldest of all 5 queues");
        assert_eq!(points, all, "ages are not summed: the oldest of any queue");
    }
}
