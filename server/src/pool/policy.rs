//! The supervisor's decisions, pure so they are unit-tested without processes or Redis: restart
//! back-off after crashes, autoscale targets, and the queues a `rq worker` command serves.

use std::time::Duration;

/// Restart back-off: 1 s after a crash, doubling per consecutive crash, at most 60 s; a child
/// that ran for [`Backoff::HEALTHY`] resets the streak.
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    pub streak: u32,
}

impl Backoff {
    pub const HEALTHY: Duration = Duration::from_secs(30);
    pub const MAX: Duration = Duration::from_secs(60);

    /// A child exited on its own after running `ran`; returns the delay before the next spawn.
    pub fn crashed(&mut self, ran: Duration) -> Duration {
        if ran >= Self::HEALTHY {
            self.streak = 0;
        }
        let d = Duration::from_secs(1u64 << self.streak.min(6)).min(Self::MAX);
        self.streak = self.streak.saturating_add(1);
        d
    }
}

/// `--autoscale latency=30s` (oldest queued job older than that → add a process; younger than
/// half → remove one) or `depth=N` (about N queued jobs per process).
#[derive(Clone, Debug, PartialEq)]
pub enum Autoscale {
    Latency(f64),
    Depth(u64),
}

impl Autoscale {
    pub fn parse(s: &str) -> Result<Autoscale, String> {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("--autoscale {s:?}: use latency=30s or depth=N"))?;
        match k.trim() {
            "latency" => {
                let v = v.trim();
                let (num, mult) = match v.strip_suffix("ms") {
                    Some(n) => (n, 0.001),
                    None => match v.strip_suffix('m') {
                        Some(n) => (n, 60.0),
                        None => (v.strip_suffix('s').unwrap_or(v), 1.0),
                    },
                };
                let secs = num
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| {
                        format!(
                            "--autoscale latency: {v:?} is not a positive duration (e.g. 30s, 2m)"
                        )
                    })?;
                Ok(Autoscale::Latency(secs * mult))
            }
            "depth" => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Autoscale::Depth)
                .ok_or_else(|| format!("--autoscale depth: {v:?} is not a positive whole number")),
            other => Err(format!("--autoscale {other:?}: use latency=30s or depth=N")),
        }
    }

    /// The process count wanted for `depth` queued jobs whose oldest waited `oldest` seconds.
    pub fn target(&self, current: u64, depth: u64, oldest: f64, min: u64, max: u64) -> u64 {
        let want = match self {
            Autoscale::Latency(limit) if oldest > *limit => current + 1,
            Autoscale::Latency(limit) if oldest < limit / 2.0 => current.saturating_sub(1),
            Autoscale::Latency(_) => current,
            Autoscale::Depth(per) => depth.div_ceil(*per),
        };
        want.clamp(min, max)
    }

    pub fn describe(&self) -> String {
        match self {
            Autoscale::Latency(s) => format!("latency={s}s"),
            Autoscale::Depth(n) => format!("depth={n}"),
        }
    }
}

/// rq worker options that take a separate value (so that value is not a queue name).
const VALUE_OPTIONS: &[&str] = &[
    "-u",
    "--url",
    "-c",
    "--config",
    "-n",
    "--name",
    "-w",
    "--worker-class",
    "-j",
    "--job-class",
    "--queue-class",
    "-P",
    "--path",
    "-S",
    "--serializer",
    "--results-ttl",
    "--worker-ttl",
    "--job-monitoring-interval",
    "--maintenance-interval",
    "--pid",
    "--date-format",
    "--log-format",
    "--max-jobs",
    "--max-idle-time",
    "--exception-handler",
    "--dequeue-strategy",
    "--sentry-ca-certs",
    "--sentry-debug",
    "--sentry-dsn",
    "-l",
    "--logging-level",
];

/// The queues of an `rq worker ...` argv (its positional arguments after `worker`); empty if the
/// command is something else (then `--queues` must say, for autoscale and the record).
pub fn queues_of(argv: &[String]) -> Vec<String> {
    let Some(at) = argv.iter().position(|a| a == "worker") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut skip = false;
    for a in &argv[at + 1..] {
        if skip {
            skip = false;
        } else if a.starts_with('-') {
            skip = !a.contains('=') && VALUE_OPTIONS.contains(&a.as_str());
        } else {
            out.push(a.clone());
        }
    }
    if out.is_empty()
        && argv
            .get(at.wrapping_sub(1))
            .is_some_and(|p| p.ends_with("rq"))
    {
        out.push("default".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        shell_words::split(s).unwrap()
    }

    #[test]
    fn backoff_doubles_and_resets() {
        let mut b = Backoff::default();
        let quick = Duration::from_millis(10);
        let d: Vec<u64> = (0..8).map(|_| b.crashed(quick).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.crashed(Duration::from_secs(31)).as_secs(), 1);
    }

    #[test]
    fn autoscale_parses_and_decides() {
        assert_eq!(
            Autoscale::parse("latency=30s").unwrap(),
            Autoscale::Latency(30.0)
        );
        assert_eq!(
            Autoscale::parse("latency=2m").unwrap(),
            Autoscale::Latency(120.0)
        );
        assert_eq!(
            Autoscale::parse("depth=100").unwrap(),
            Autoscale::Depth(100)
        );
        for bad in [
            "latency",
            "latency=-1s",
            "depth=0",
            "speed=3",
            "latency=abc",
        ] {
            assert!(Autoscale::parse(bad).is_err(), "{bad}");
        }
        let l = Autoscale::Latency(30.0);
        assert_eq!(l.target(2, 10, 45.0, 1, 8), 3);
        assert_eq!(l.target(8, 10, 45.0, 1, 8), 8);
        assert_eq!(l.target(3, 10, 20.0, 1, 8), 3);
        assert_eq!(l.target(3, 0, 0.0, 1, 8), 2);
        assert_eq!(l.target(1, 0, 0.0, 1, 8), 1);
        let d = Autoscale::Depth(100);
        assert_eq!(d.target(1, 450, 0.0, 1, 8), 5);
        assert_eq!(d.target(5, 0, 0.0, 2, 8), 2);
        assert_eq!(d.target(5, 100_000, 0.0, 2, 8), 8);
    }

    #[test]
    fn queues_come_from_the_rq_command() {
        assert_eq!(
            queues_of(&argv("rq worker -u redis://x:1 high default")),
            ["high", "default"]
        );
        assert_eq!(
            queues_of(&argv("rq worker --url=redis://x high -b --name w1 low")),
            ["high", "low"]
        );
        assert_eq!(queues_of(&argv(".venv/bin/rq worker")), ["default"]);
        assert!(queues_of(&argv("python my_worker.py")).is_empty());
    }
}
