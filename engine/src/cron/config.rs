//! The cron TOML file (`taskmill worker --cron FILE`, `taskmill cron --cron FILE`): parsed and
//! checked in full before anything runs, every problem reported with its line and reason.
//!
//! ```toml
//! [jobs.nightly-report]
//! func = "reports.build"      # dotted function name; Python workers may run it
//! queue = "reports"           # default "default"
//! cron = "30 2 * * *"         # or: interval = 300 (seconds)
//! timezone = "Europe/Berlin"  # optional IANA name, default UTC (cron only)
//! args = [1]                  # optional; kwargs = { ... } too; JSON serializer
//! timeout = 600               # optional job options: timeout, result_ttl, failure_ttl, ttl
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use toml::Spanned;

use super::schedule::{CronExpr, Schedule};
use super::CronJobDef;

/// Shortest interval: a tick per second is already more than a scheduler should do.
pub const MIN_INTERVAL: i64 = 1;

pub use crate::toml_file::ConfigError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    jobs: BTreeMap<Spanned<String>, Spanned<RawJob>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    func: Spanned<String>,
    #[serde(default)]
    queue: Option<Spanned<String>>,
    #[serde(default)]
    cron: Option<Spanned<String>>,
    #[serde(default)]
    interval: Option<Spanned<i64>>,
    #[serde(default)]
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    args: Option<Vec<Value>>,
    #[serde(default)]
    kwargs: Option<Map<String, Value>>,
    #[serde(default)]
    timeout: Option<i64>,
    #[serde(default)]
    result_ttl: Option<i64>,
    #[serde(default)]
    failure_ttl: Option<i64>,
    #[serde(default)]
    ttl: Option<i64>,
}

/// Parses a whole file; the first problem found refuses it.
pub fn parse(text: &str) -> Result<Vec<CronJobDef>, ConfigError> {
    let err = |pos: usize, reason: String| ConfigError::at(text, pos, reason);
    let file: File = toml::from_str(text).map_err(|e| ConfigError::from_toml(text, &e))?;
    if file.jobs.is_empty() {
        return Err(err(
            0,
            "no [jobs.<name>] tables: nothing to schedule".into(),
        ));
    }
    let mut out = Vec::new();
    for (name, job) in file.jobs {
        let at = job.span().start;
        let name_pos = name.span().start.max(at);
        let name = name.into_inner();
        crate::limits::validate_cron_name(&name).map_err(|e| err(name_pos, e.to_string()))?;
        let job = job.into_inner();
        let func_pos = job.func.span().start;
        let func = job.func.into_inner();
        if func.trim().is_empty() || func.len() > 1000 {
            return Err(err(
                func_pos,
                format!("[jobs.{name}] func must be a function name (1 to 1000 bytes)"),
            ));
        }
        let queue = match job.queue {
            Some(q) => {
                let pos = q.span().start;
                let q = q.into_inner();
                crate::limits::validate_queue_name(&q)
                    .map_err(|e| err(pos, format!("[jobs.{name}] queue: {e}")))?;
                q
            }
            None => "default".to_string(),
        };
        let tz = match &job.timezone {
            Some(t) => Some(t.get_ref().parse::<chrono_tz::Tz>().map_err(|_| {
                err(t.span().start, format!("[jobs.{name}] timezone {:?} is not an IANA time zone name (e.g. \"Europe/Berlin\", \"UTC\")", t.get_ref()))
            })?),
            None => None,
        };
        let cron_text = job.cron.as_ref().map(|c| c.get_ref().trim().to_string());
        let schedule = match (job.cron, job.interval) {
            (Some(_), Some(i)) => {
                return Err(err(
                    i.span().start,
                    format!("[jobs.{name}] has both cron and interval: pick one"),
                ))
            }
            (None, None) => {
                return Err(err(
                    at,
                    format!("[jobs.{name}] needs cron = \"...\" or interval = SECONDS"),
                ))
            }
            (Some(c), None) => {
                let expr = CronExpr::parse(c.get_ref()).map_err(|why| {
                    err(
                        c.span().start,
                        format!("[jobs.{name}] cron {:?}: {why}", c.get_ref()),
                    )
                })?;
                Schedule::Cron {
                    expr,
                    tz: tz.unwrap_or(chrono_tz::Tz::UTC),
                }
            }
            (None, Some(i)) => {
                if let Some(t) = &job.timezone {
                    return Err(err(
                        t.span().start,
                        format!("[jobs.{name}] timezone only applies to cron schedules"),
                    ));
                }
                let secs = *i.get_ref();
                if secs < MIN_INTERVAL {
                    return Err(err(i.span().start, format!("[jobs.{name}] interval must be at least {MIN_INTERVAL} second, got {secs}")));
                }
                Schedule::Interval { secs: secs as u64 }
            }
        };
        out.push(CronJobDef {
            name,
            func,
            queue,
            cron: cron_text,
            schedule,
            timezone: job.timezone.map(Spanned::into_inner),
            args: job.args.unwrap_or_default(),
            kwargs: job.kwargs.unwrap_or_default(),
            timeout: job.timeout,
            result_ttl: job.result_ttl,
            failure_ttl: job.failure_ttl,
            ttl: job.ttl,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[jobs.nightly-report]
func = "reports.build"
queue = "reports"
cron = "30 2 * * *"
timezone = "Europe/Berlin"
args = [1]

[jobs.ping]
func = "health.ping"
interval = 300
kwargs = { deep = true }
"#;

    #[test]
    fn the_issue_example_parses() {
        let jobs = parse(GOOD).unwrap();
        assert_eq!(jobs.len(), 2);
        let n = &jobs[0];
        assert_eq!(
            (n.name.as_str(), n.func.as_str(), n.queue.as_str()),
            ("nightly-report", "reports.build", "reports")
        );
        assert_eq!(n.args, vec![Value::from(1)]);
        assert!(matches!(
            n.schedule,
            Schedule::Cron {
                tz: chrono_tz::Europe::Berlin,
                ..
            }
        ));
        assert_eq!(n.timezone.as_deref(), Some("Europe/Berlin"));
        let p = &jobs[1];
        assert_eq!(p.queue, "default");
        assert_eq!(p.schedule, Schedule::Interval { secs: 300 });
        assert_eq!(p.kwargs.get("deep"), Some(&Value::Bool(true)));
    }

    #[test]
    fn refusals_name_the_line_and_reason() {
        let cases = [
            (
                "[jobs.a]\nfunc = \"f\"\ncron = \"61 * * * *\"\n",
                3,
                "minute: 61 is out of range",
            ),
            (
                "[jobs.a]\nfunc = \"f\"\ncron = \"* * * * *\"\ntimezone = \"Mars/Olympus\"\n",
                4,
                "not an IANA time zone",
            ),
            (
                "[jobs.a]\nfunc = \"f\"\n\ncron = \"* * * * *\"\ninterval = 5\n",
                5,
                "both cron and interval",
            ),
            ("[jobs.a]\nfunc = \"f\"\n", 1, "needs cron"),
            (
                "[jobs.a]\nfunc = \"f\"\ninterval = 0\n",
                3,
                "at least 1 second",
            ),
            (
                "[jobs.a]\nfunc = \"f\"\ninterval = 5\ncolour = 1\n",
                4,
                "unknown field",
            ),
            ("[jobs.a]\nfunc = \"f\"\ninterval = = 5\n", 3, ""),
            ("[jobs.a]\nfunc = \"f\"\ninterval = [\n\n", 3, "expected"),
            (
                "[jobs.a]\nfunc = \"f\"\ninterval = 5\ntimezone = \"UTC\"\n",
                4,
                "only applies to cron",
            ),
            (
                "[jobs.a]\nfunc = \"f\"\nqueue = \"\"\ninterval = 5\n",
                3,
                "queue",
            ),
            ("# nothing\n", 1, "no [jobs"),
        ];
        for (text, line, why) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.reason.contains(why), "{text:?}: {e}");
        }
    }
}
