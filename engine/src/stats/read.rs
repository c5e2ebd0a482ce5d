//! Reading history: a series (one point per bucket over a fixed range), the function table, and
//! the running totals behind `/metrics`. Each read is one pipeline over the keys covering the
//! range (2 to 31 per scope or function), never a scan.

use std::collections::HashMap;

use crate::keys;
use crate::model::{quantile, FunctionStats, Series, StatsMetric, StatsRange, DURATION_BUCKETS};
use crate::{Result, Store};

/// One resolution: its tag in key names, bucket width and key width (seconds).
#[derive(Clone, Copy)]
pub(crate) struct Res {
    pub tag: &'static str,
    pub step: i64,
    pub span: i64,
}
pub(crate) const MINUTE: Res = Res {
    tag: "m",
    step: 60,
    span: 3_600,
};
pub(crate) const HOUR: Res = Res {
    tag: "h",
    step: 3_600,
    span: 86_400,
};

/// Most functions the table reads (names beyond it are left out, in name order).
pub const MAX_FUNCTIONS: usize = 1_000;

impl Res {
    /// Start of every key holding a bucket in `[first, last]`.
    fn key_starts(self, first: i64, last: i64) -> Vec<i64> {
        let mut s = first - first.rem_euclid(self.span);
        let mut out = Vec::new();
        while s <= last {
            out.push(s);
            s += self.span;
        }
        out
    }
}

/// One series for `queue` (`None`: every queue) over `range`, ending with the bucket that holds
/// `now` (unix seconds). Counters read 0 where nothing was written, gauges `None`.
pub async fn series(
    store: &Store,
    metric: StatsMetric,
    queue: Option<&str>,
    range: StatsRange,
    now: i64,
) -> Result<Series> {
    let res = if range.step_s() == 60 { MINUTE } else { HOUR };
    let first = range.first_bucket(now);
    let n = range.points() as i64;
    let last = first + (n - 1) * res.step;
    let scope = queue.map_or_else(|| keys::STATS_ALL.to_string(), keys::stats_scope);
    let starts = res.key_starts(first, last);
    let mut p = redis::pipe();
    for s in &starts {
        let start = s.to_string();
        let key = if metric.is_counter() {
            keys::stats_counts(res.tag, &start, &scope)
        } else {
            keys::stats_gauges(res.tag, &start, &scope)
        };
        p.cmd("HGETALL").arg(key);
    }
    let maps: Vec<HashMap<String, String>> = p.query_async(&mut store.conn()).await?;
    let mut values: HashMap<i64, f64> = HashMap::new();
    for (start, map) in starts.iter().zip(maps) {
        for (field, value) in map {
            if let Some((i, v)) = point(metric, &field, &value) {
                values.insert(start + i * res.step, v);
            }
        }
    }
    let points = (0..n)
        .map(|i| {
            let t = first + i * res.step;
            let v = values.get(&t).copied();
            (
                t,
                if metric.is_counter() {
                    v.or(Some(0.0))
                } else {
                    v
                },
            )
        })
        .collect();
    Ok(Series {
        metric: metric.as_str().to_string(),
        queue: queue.map(str::to_string),
        range: range.as_str().to_string(),
        step_s: range.step_s(),
        points,
    })
}

/// One field of a counter or gauge hash → (bucket index in its key, value) for `metric`.
fn point(metric: StatsMetric, field: &str, value: &str) -> Option<(i64, f64)> {
    let gauge = match metric {
        StatsMetric::Finished => {
            let i = field.strip_prefix('f')?.parse().ok()?;
            return Some((i, value.parse().ok()?));
        }
        StatsMetric::Failed => {
            let i = field.strip_prefix('x')?.parse().ok()?;
            return Some((i, value.parse().ok()?));
        }
        StatsMetric::Depth => 0,
        StatsMetric::Started => 1,
        StatsMetric::Latency => 2,
        StatsMetric::Busy => 3,
        StatsMetric::Idle => 4,
    };
    let i = field.parse().ok()?;
    let part = value.split(' ').nth(gauge)?;
    // A sampled queue with nothing queued has no oldest job: it waited 0 s.
    let v = if part == "-" { 0.0 } else { part.parse().ok()? };
    Some((i, v))
}

/// Every function that ran in `range` ending at `now`, most runs first. The 1 h range reads
/// 1-minute buckets (the last 60), longer ranges 1-hour buckets (the last 24, 168 or 720, the
/// current partial hour included).
pub async fn functions(store: &Store, range: StatsRange, now: i64) -> Result<Vec<FunctionStats>> {
    let res = if range == StatsRange::Hour {
        MINUTE
    } else {
        HOUR
    };
    let last = now - now.rem_euclid(res.step);
    let first = last - (range.span_s() as i64 / res.step - 1) * res.step;
    let starts = res.key_starts(first, last);
    let mut conn = store.conn();
    let index: Vec<String> = starts
        .iter()
        .map(|s| keys::stats_functions(res.tag, &s.to_string()))
        .collect();
    let mut names: Vec<String> = redis::cmd("SUNION")
        .arg(&index)
        .query_async(&mut conn)
        .await?;
    names.sort();
    names.truncate(MAX_FUNCTIONS);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = redis::pipe();
    for f in &names {
        for s in &starts {
            p.cmd("HGETALL")
                .arg(keys::stats_function(res.tag, &s.to_string(), f));
        }
    }
    let maps: Vec<HashMap<String, String>> = p.query_async(&mut conn).await?;
    let mut out = Vec::new();
    let mut maps = maps.into_iter();
    for f in names {
        let mut acc = Acc::default();
        for s in &starts {
            for (field, value) in maps.next().unwrap_or_default() {
                let Ok(i) = field.parse::<i64>() else {
                    continue;
                };
                let t = s + i * res.step;
                if (first..=last).contains(&t) {
                    acc.add(&value);
                }
            }
        }
        if acc.count > 0 {
            out.push(acc.finish(f));
        }
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.function.cmp(&b.function)));
    Ok(out)
}

/// Sums packed function buckets (`count failed total_us b:n ...`).
#[derive(Default)]
struct Acc {
    count: u64,
    failed: u64,
    us: f64,
    hist: Vec<u64>,
}

impl Acc {
    fn add(&mut self, packed: &str) {
        if self.hist.is_empty() {
            self.hist = vec![0; DURATION_BUCKETS];
        }
        let mut it = packed.split(' ');
        let mut num = || it.next().and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0);
        self.count += num() as u64;
        self.failed += num() as u64;
        self.us += num();
        for tok in packed.split(' ').skip(3) {
            if let Some((b, n)) = tok.split_once(':') {
                if let (Ok(b), Ok(n)) = (b.parse::<usize>(), n.parse::<u64>()) {
                    if let Some(slot) = self.hist.get_mut(b) {
                        *slot += n;
                    }
                }
            }
        }
    }

    fn finish(self, function: String) -> FunctionStats {
        FunctionStats {
            function,
            count: self.count,
            failed: self.failed,
            p50_s: quantile(&self.hist, 0.50),
            p95_s: quantile(&self.hist, 0.95),
            p99_s: quantile(&self.hist, 0.99),
            total_s: self.us / 1e6,
            histogram: self.hist,
        }
    }
}

/// One queue's running totals (`/metrics`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueTotals {
    pub queue: String,
    pub finished: u64,
    pub failed: u64,
    /// Taskmill workers' runs per function (at most [`super::FUNCTION_CAP`] names + `other`).
    pub functions: Vec<FunctionTotals>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunctionTotals {
    pub function: String,
    pub count: u64,
    pub sum_s: f64,
    /// Runs per bucket of `DURATION_BOUNDS` (not cumulative).
    pub histogram: Vec<u64>,
}

/// Running totals of `queues`: one HGETALL each, in one pipeline.
pub async fn totals(store: &Store, queues: &[String]) -> Result<Vec<QueueTotals>> {
    if queues.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = redis::pipe();
    for q in queues {
        p.cmd("HGETALL").arg(keys::stats_totals(q));
    }
    let maps: Vec<HashMap<String, String>> = p.query_async(&mut store.conn()).await?;
    Ok(queues
        .iter()
        .zip(maps)
        .map(|(q, m)| parse_totals(q, m))
        .collect())
}

fn parse_totals(queue: &str, map: HashMap<String, String>) -> QueueTotals {
    let mut t = QueueTotals {
        queue: queue.to_string(),
        ..QueueTotals::default()
    };
    let mut fns: HashMap<String, FunctionTotals> = HashMap::new();
    fn entry<'a>(fns: &'a mut HashMap<String, FunctionTotals>, f: &str) -> &'a mut FunctionTotals {
        fns.entry(f.to_string()).or_insert_with(|| FunctionTotals {
            function: f.to_string(),
            histogram: vec![0; DURATION_BUCKETS],
            ..FunctionTotals::default()
        })
    }
    for (k, v) in &map {
        let n: u64 = v.parse().unwrap_or(0);
        match k.as_str() {
            "finished" => t.finished = n,
            "failed" => t.failed = n,
            _ => {
                if let Some(f) = k.strip_prefix("c\t") {
                    entry(&mut fns, f).count = n;
                } else if let Some(f) = k.strip_prefix("s\t") {
                    entry(&mut fns, f).sum_s = n as f64 / 1e6;
                } else if let Some((f, b)) = k.strip_prefix("h\t").and_then(|r| r.rsplit_once('\t'))
                {
                    if let Ok(b) = b.parse::<usize>() {
                        if let Some(slot) = entry(&mut fns, f).histogram.get_mut(b) {
                            *slot = n;
                        }
                    }
                }
            }
        }
    }
    let mut functions: Vec<FunctionTotals> = fns.into_values().collect();
    functions.sort_by(|a, b| a.function.cmp(&b.function));
    t.functions = functions;
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_map_to_points() {
        assert_eq!(point(StatsMetric::Finished, "f7", "3"), Some((7, 3.0)));
        assert_eq!(point(StatsMetric::Finished, "x7", "3"), None);
        assert_eq!(point(StatsMetric::Failed, "x7", "2"), Some((7, 2.0)));
        assert_eq!(point(StatsMetric::Depth, "4", "9 1 - 2 3"), Some((4, 9.0)));
        assert_eq!(
            point(StatsMetric::Latency, "4", "9 1 - 2 3"),
            Some((4, 0.0))
        );
        assert_eq!(point(StatsMetric::Idle, "4", "9 1 2.5 2 3"), Some((4, 3.0)));
        assert_eq!(point(StatsMetric::Busy, "4", "junk"), None);
    }

    #[test]
    fn key_starts_cover_the_range() {
        assert_eq!(MINUTE.key_starts(3_540, 7_200), vec![0, 3_600, 7_200]);
        assert_eq!(HOUR.key_starts(86_400, 86_400), vec![86_400]);
    }

    #[test]
    fn packed_function_buckets_sum() {
        let mut a = Acc::default();
        a.add("3 1 1500000 0:2 6:1");
        a.add("1 0 500000 6:1 99:4 junk");
        let f = a.finish("f".into());
        assert_eq!((f.count, f.failed), (4, 1));
        assert!((f.total_s - 2.0).abs() < 1e-9);
        assert_eq!(f.histogram[0], 2);
        assert_eq!(f.histogram[6], 2);
    }

    #[test]
    fn totals_parse_tabs_in_names() {
        let m: HashMap<String, String> = [
            ("finished", "5"),
            ("failed", "2"),
            ("nfn", "1"),
            ("c\ta\tb", "3"),
            ("s\ta\tb", "1500000"),
            ("h\ta\tb\t4", "3"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let t = parse_totals("q", m);
        assert_eq!((t.finished, t.failed), (5, 2));
        assert_eq!(t.functions.len(), 1);
        assert_eq!(t.functions[0].function, "a\tb");
        assert_eq!(t.functions[0].histogram[4], 3);
        assert!((t.functions[0].sum_s - 1.5).abs() < 1e-9);
    }
}
