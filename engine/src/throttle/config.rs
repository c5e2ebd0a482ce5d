//! The `--limits FILE.toml` format, parsed and checked once at start. Every error names the line
//! (1-based) and the reason, so a bad file is refused before any worker runs:
//!
//! ```toml
//! [functions."llm.summarize"]
//! concurrency = 2        # at most 2 running at once, fleet-wide
//! rate = "60/m"          # at most 60 starts per minute (N/s, N/m, N/h)
//! [queues.reports]
//! concurrency = 1
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{Limit, Limits, Rate, Scope};

/// Largest `concurrency` accepted.
pub const MAX_CONCURRENCY: i64 = 100_000;
/// Largest rate count accepted.
pub const MAX_RATE: u64 = 1_000_000;

pub use crate::toml_file::ConfigError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    functions: BTreeMap<String, Spanned<Entry>>,
    #[serde(default)]
    queues: BTreeMap<String, Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    concurrency: Option<Spanned<i64>>,
    rate: Option<Spanned<String>>,
}

/// Parses `N/s`, `N/m` or `N/h` (N ≥ 1).
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let bad = || format!("rate {s:?} is not N/s, N/m or N/h with N at least 1");
    let (n, unit) = s.trim().split_once('/').ok_or_else(bad)?;
    let count: u64 = n.trim().parse().map_err(|_| bad())?;
    let per_secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(bad()),
    };
    if count == 0 || count > MAX_RATE {
        return Err(format!("rate {s:?}: N must be 1..={MAX_RATE}"));
    }
    Ok(Rate { count, per_secs })
}

use crate::toml_file::line_of;

pub fn parse(text: &str) -> Result<Limits, ConfigError> {
    let file: File = toml::from_str(text).map_err(|e| ConfigError::from_toml(text, &e))?;
    let mut limits = Vec::new();
    let scopes = [
        (Scope::Function, file.functions),
        (Scope::Queue, file.queues),
    ];
    for (scope, entries) in scopes {
        for (name, entry) in entries {
            let line = line_of(text, entry.span().start);
            let err = |line: usize, reason: String| ConfigError { line, reason };
            match scope {
                Scope::Function => {
                    if name.is_empty() || name.len() > 1000 || name.chars().any(char::is_control) {
                        return Err(err(line, format!("bad function name {name:?}")));
                    }
                }
                Scope::Queue => crate::limits::validate_queue_name(&name)
                    .map_err(|e| err(line, format!("queue {name:?}: {e}")))?,
            }
            let entry = entry.into_inner();
            let concurrency = match entry.concurrency {
                Some(c) => {
                    let at = line_of(text, c.span().start);
                    let v = *c.get_ref();
                    if !(1..=MAX_CONCURRENCY).contains(&v) {
                        return Err(err(
                            at,
                            format!("concurrency must be 1..={MAX_CONCURRENCY}, got {v}"),
                        ));
                    }
                    Some(v as u32)
                }
                None => None,
            };
            let rate = match entry.rate {
                Some(r) => {
                    let at = line_of(text, r.span().start);
                    Some(parse_rate(r.get_ref()).map_err(|e| err(at, e))?)
                }
                None => None,
            };
            if concurrency.is_none() && rate.is_none() {
                return Err(err(
                    line,
                    format!("{name:?} sets neither concurrency nor rate"),
                ));
            }
            limits.push(Limit {
                scope,
                name,
                concurrency,
                rate,
            });
        }
    }
    Ok(Limits::new(limits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_parses() {
        let l = parse(
            "[functions.\"llm.summarize\"]\nconcurrency = 2\nrate = \"60/m\"\n[queues.reports]\nconcurrency = 1\n",
        )
        .unwrap();
        assert_eq!(l.all().len(), 2);
        let f = &l.all()[0];
        assert_eq!(f.id(), "fn:llm.summarize");
        assert_eq!(f.concurrency, Some(2));
        assert_eq!(
            f.rate,
            Some(Rate {
                count: 60,
                per_secs: 60
            })
        );
        assert_eq!(l.all()[1].id(), "q:reports");
        assert_eq!(l.for_job("llm.summarize", "other"), vec![0]);
        assert_eq!(l.for_job("llm.summarize", "reports"), vec![0, 1]);
        assert!(l.for_job("x", "y").is_empty());
    }

    #[test]
    fn bad_files_name_the_line_and_reason() {
        let e = parse("[functions.a]\nconcurrency = 2\nrate = \"10/d\"\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.reason.contains("N/s"), "{e}");
        let e = parse("[queues.q]\n\nconcurrency = 0\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parse("[functions.a]\nconcurency = 2\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.reason.contains("unknown field"), "{e}");
        let e = parse("[functions.a]\nconcurrency = 2\n[functions.b]\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parse("[functions.a\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("5/x").is_err());
        assert_eq!(
            parse_rate("5/h"),
            Ok(Rate {
                count: 5,
                per_secs: 3600
            })
        );
    }
}
