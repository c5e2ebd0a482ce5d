//! History shapes shared with the console's wasm half: which series can be asked for, over which
//! range, and what comes back. No Redis here; `engine::stats` reads and writes the buckets.
//!
//! Counters (`finished`, `failed`) are per bucket sums, 0 for a bucket nobody wrote; gauges
//! (`depth`, `started`, `latency`, `busy`, `idle`) hold the last sample taken in the bucket and
//! are `None` (JSON `null`) for a bucket never sampled.

use serde::{Deserialize, Serialize};

/// One recorded series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StatsMetric {
    /// Jobs that finished successfully in the bucket (counter).
    Finished,
    /// Jobs that failed in the bucket, retried and stopped ones included, like RQ's worker
    /// `failed_job_count` (counter).
    Failed,
    /// Queued jobs (`LLEN rq:queue:<q>`) at the last sample in the bucket (gauge).
    Depth,
    /// Age in seconds of the oldest queued job at the last sample (gauge; summed queues: the
    /// largest age of any queue).
    Latency,
    /// Busy workers at the last sample (gauge; per queue: workers listening on it).
    Busy,
    /// Idle workers at the last sample (gauge): busy share = busy / (busy + idle).
    Idle,
    /// Jobs in the started registry at the last sample (gauge).
    Started,
}

impl StatsMetric {
    pub const ALL: [StatsMetric; 7] = [
        StatsMetric::Finished,
        StatsMetric::Failed,
        StatsMetric::Depth,
        StatsMetric::Latency,
        StatsMetric::Busy,
        StatsMetric::Idle,
        StatsMetric::Started,
    ];
    pub fn parse(s: &str) -> Option<StatsMetric> {
        StatsMetric::ALL.into_iter().find(|m| m.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            StatsMetric::Finished => "finished",
            StatsMetric::Failed => "failed",
            StatsMetric::Depth => "depth",
            StatsMetric::Latency => "latency",
            StatsMetric::Busy => "busy",
            StatsMetric::Idle => "idle",
            StatsMetric::Started => "started",
        }
    }
    /// Counters sum over buckets and queues; gauges are samples.
    pub fn is_counter(self) -> bool {
        matches!(self, StatsMetric::Finished | StatsMetric::Failed)
    }
}

/// How far back a series or the function table looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StatsRange {
    #[default]
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
}

impl StatsRange {
    pub const ALL: [StatsRange; 4] = [
        StatsRange::Hour,
        StatsRange::Day,
        StatsRange::Week,
        StatsRange::Month,
    ];
    pub fn parse(s: &str) -> Option<StatsRange> {
        StatsRange::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            StatsRange::Hour => "1h",
            StatsRange::Day => "24h",
            StatsRange::Week => "7d",
            StatsRange::Month => "30d",
        }
    }
    /// Seconds covered.
    pub fn span_s(self) -> u64 {
        match self {
            StatsRange::Hour => 3_600,
            StatsRange::Day => 86_400,
            StatsRange::Week => 7 * 86_400,
            StatsRange::Month => 30 * 86_400,
        }
    }
    /// Bucket width: minute buckets up to a day, hour buckets beyond.
    pub fn step_s(self) -> u64 {
        match self {
            StatsRange::Hour | StatsRange::Day => 60,
            StatsRange::Week | StatsRange::Month => 3_600,
        }
    }
    /// Points in a series (60, 1440, 168, 720).
    pub fn points(self) -> usize {
        (self.span_s() / self.step_s()) as usize
    }
    /// Unix seconds of the first bucket of a series ending with the bucket holding `now`.
    pub fn first_bucket(self, now: i64) -> i64 {
        let step = self.step_s() as i64;
        now.div_euclid(step) * step - (self.points() as i64 - 1) * step
    }
}

/// One series: `points` are `[bucket start (unix seconds), value]`, oldest first, one per bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Series {
    pub metric: String,
    /// `None`: every queue (counters, depth and started summed; latency the largest; busy and
    /// idle count each worker once).
    pub queue: Option<String>,
    pub range: String,
    pub step_s: u64,
    // `[t, v]` pairs as plain arrays in the document: schemathesis 4.32 chokes on the tuple's
    // `prefixItems` + `items: false` in a response schema.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Option<f64>>>))]
    pub points: Vec<(i64, Option<f64>)>,
}

/// Upper bounds (seconds) of the duration histogram's buckets, log-spaced 1-2.5-5 from 10 ms to
/// 1 h. A histogram has one more bucket than bounds: the last counts runs longer than an hour.
pub const DURATION_BOUNDS: [f64; 18] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0,
    1000.0, 2500.0, 3600.0,
];
/// Buckets in a histogram (`DURATION_BOUNDS.len() + 1`).
pub const DURATION_BUCKETS: usize = DURATION_BOUNDS.len() + 1;

/// The histogram bucket a run of `secs` falls in.
pub fn duration_bucket(secs: f64) -> usize {
    DURATION_BOUNDS
        .iter()
        .position(|b| secs <= *b)
        .unwrap_or(DURATION_BOUNDS.len())
}

/// One function's runs over a range (Taskmill workers only: Python workers do not say which
/// function they ran).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunctionStats {
    pub function: String,
    /// Runs, failures included.
    pub count: u64,
    pub failed: u64,
    /// Percentiles read from the histogram (linear within a bucket, like Prometheus'
    /// `histogram_quantile`); 0 when `count` is 0.
    pub p50_s: f64,
    pub p95_s: f64,
    pub p99_s: f64,
    pub total_s: f64,
    /// Runs per bucket of [`DURATION_BOUNDS`] (length [`DURATION_BUCKETS`]).
    pub histogram: Vec<u64>,
}

impl FunctionStats {
    /// Failure share in percent (0 when nothing ran).
    pub fn failure_pct(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.failed as f64 * 100.0 / self.count as f64
        }
    }
}

/// The `q`-quantile (0..=1) of a histogram over [`DURATION_BOUNDS`], interpolated linearly inside
/// its bucket; the overflow bucket reports the last bound.
pub fn quantile(histogram: &[u64], q: f64) -> f64 {
    let total: u64 = histogram.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut seen = 0u64;
    for (i, n) in histogram.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        if (seen + n) as f64 >= rank {
            let Some(hi) = DURATION_BOUNDS.get(i) else {
                return DURATION_BOUNDS[DURATION_BOUNDS.len() - 1];
            };
            let lo = if i == 0 { 0.0 } else { DURATION_BOUNDS[i - 1] };
            let within = ((rank - seen as f64) / *n as f64).clamp(0.0, 1.0);
            return lo + (hi - lo) * within;
        }
        seen += n;
    }
    DURATION_BOUNDS[DURATION_BOUNDS.len() - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in StatsMetric::ALL {
            assert_eq!(StatsMetric::parse(m.as_str()), Some(m));
        }
        for r in StatsRange::ALL {
            assert_eq!(StatsRange::parse(r.as_str()), Some(r));
        }
        assert_eq!(StatsMetric::parse("nope"), None);
        assert_eq!(StatsRange::parse("2h"), None);
        assert_eq!(serde_json::to_string(&StatsRange::Week).unwrap(), "\"7d\"");
    }

    #[test]
    fn ranges_have_fixed_buckets() {
        assert_eq!(StatsRange::Hour.points(), 60);
        assert_eq!(StatsRange::Day.points(), 1440);
        assert_eq!(StatsRange::Week.points(), 168);
        assert_eq!(StatsRange::Month.points(), 720);
        // The last bucket holds `now`.
        let first = StatsRange::Hour.first_bucket(7_259);
        assert_eq!(first + 59 * 60, 7_200);
    }

    #[test]
    fn series_serialises_points_as_pairs() {
        let s = Series {
            metric: "depth".into(),
            queue: None,
            range: "1h".into(),
            step_s: 60,
            points: vec![(60, Some(2.0)), (120, None)],
        };
        let j = serde_json::to_string(&s).unwrap();
        assert!(j.contains("\"points\":[[60,2.0],[120,null]]"), "{j}");
    }

    #[test]
    fn buckets_and_quantiles() {
        assert_eq!(duration_bucket(0.0), 0);
        assert_eq!(duration_bucket(0.01), 0);
        assert_eq!(duration_bucket(0.011), 1);
        assert_eq!(duration_bucket(4000.0), DURATION_BUCKETS - 1);
        let mut h = vec![0; DURATION_BUCKETS];
        h[6] = 100; // (0.5, 1]
        assert!((quantile(&h, 0.5) - 0.75).abs() < 1e-9);
        assert_eq!(quantile(&[], 0.5), 0.0);
        h[DURATION_BUCKETS - 1] = 1000;
        assert_eq!(quantile(&h, 0.99), 3600.0);
    }
}
