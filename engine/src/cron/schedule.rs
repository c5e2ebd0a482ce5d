//! Cron expressions and "when is the next tick": pure (no Redis, no clock), so every rule is
//! pinned by a unit test.
//!
//! Five fields, Vixie-cron syntax: minute hour day-of-month month day-of-week; `*`, `a-b`, lists,
//! steps (`*/15`, `1-30/5`), month and weekday names (`jan`, `mon`), 7 = Sunday, and the macros
//! `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`. When both
//! day-of-month and day-of-week are restricted a day matching either runs (cron's rule).
//!
//! Times are evaluated in the job's IANA time zone. A local time skipped by a DST change
//! (02:30 on a spring-forward night) runs at the same instant an hour later on the wall clock
//! (so a nightly job still runs that night); a local time that occurs twice runs once, at the
//! first occurrence.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// How often a job runs: a cron expression in a zone, or every N seconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Cron {
        expr: CronExpr,
        tz: Tz,
    },
    /// Ticks are the multiples of `secs` since the Unix epoch, so every process agrees on them.
    Interval {
        secs: u64,
    },
}

impl Schedule {
    /// The first tick strictly after `t` (unix seconds).
    pub fn next_after(&self, t: i64) -> Option<i64> {
        match self {
            Schedule::Cron { expr, tz } => expr.next_after(t, *tz),
            Schedule::Interval { secs } => {
                let s = *secs as i64;
                Some((t.div_euclid(s) + 1) * s)
            }
        }
    }
}

/// A parsed five-field expression as bit sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronExpr {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// Day-of-month / day-of-week field was `*` (or `?`): then only the other one restricts.
    dom_any: bool,
    dow_any: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl CronExpr {
    /// Parses an expression; the error says which field is wrong and why.
    pub fn parse(text: &str) -> Result<CronExpr, String> {
        let text = text.trim();
        let expanded = match text.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
            "@monthly" => "0 0 1 * *".to_string(),
            "@weekly" => "0 0 * * 0".to_string(),
            "@daily" | "@midnight" => "0 0 * * *".to_string(),
            "@hourly" => "0 * * * *".to_string(),
            other if other.starts_with('@') => {
                return Err(format!(
                    "unknown macro {text:?} (use @hourly, @daily, @weekly, @monthly or @yearly)"
                ))
            }
            _ => text.to_string(),
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), {text:?} has {}",
                fields.len()
            ));
        }
        let minutes = field(fields[0], "minute", 0, 59, &[])?;
        let hours = field(fields[1], "hour", 0, 23, &[])?;
        let days = field(fields[2], "day-of-month", 1, 31, &[])?;
        let months = field(fields[3], "month", 1, 12, &MONTHS)?;
        let mut weekdays = field(fields[4], "day-of-week", 0, 7, &DAYS)?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        let any = |f: &str| f.starts_with('*') || f == "?";
        Ok(CronExpr {
            minutes,
            hours: hours as u32,
            days: (days >> 1) as u32,
            months: (months >> 1) as u16,
            weekdays: (weekdays & 0x7f) as u8,
            dom_any: any(fields[2]),
            dow_any: any(fields[4]),
        })
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        let dom = self.days & (1 << (d.day() - 1)) != 0;
        let dow = self.weekdays & (1 << d.weekday().num_days_from_sunday()) != 0;
        match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (true, false) => dow,
            (false, true) => dom,
            (false, false) => dom || dow,
        }
    }

    /// The first matching minute strictly after `t`, as unix seconds; `None` if none within
    /// five years (e.g. `0 0 31 2 *`).
    pub fn next_after(&self, t: i64, tz: Tz) -> Option<i64> {
        let local = tz.timestamp_opt(t, 0).single()?.naive_local();
        let mut cur = local.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let limit = local + Duration::days(5 * 366);
        while cur < limit {
            if self.months & (1 << (cur.month() - 1)) == 0 {
                cur = first_of_next_month(cur)?;
                continue;
            }
            if !self.day_matches(cur.date()) {
                cur = cur.date().succ_opt()?.and_hms_opt(0, 0, 0)?;
                continue;
            }
            if self.hours & (1 << cur.hour()) == 0 {
                cur = cur.with_minute(0)? + Duration::hours(1);
                continue;
            }
            if self.minutes & (1 << cur.minute()) == 0 {
                cur += Duration::minutes(1);
                continue;
            }
            let at = resolve(tz, cur)?;
            if at > t {
                return Some(at);
            }
            cur += Duration::minutes(1);
        }
        None
    }
}

fn first_of_next_month(cur: NaiveDateTime) -> Option<NaiveDateTime> {
    let (y, m) = if cur.month() == 12 {
        (cur.year() + 1, 1)
    } else {
        (cur.year(), cur.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.and_hms_opt(0, 0, 0)
}

/// Wall-clock time → instant: the earlier of two, or for a skipped time the wall clock an
/// hour later (the same instant the old offset would give).
fn resolve(tz: Tz, local: NaiveDateTime) -> Option<i64> {
    match tz.from_local_datetime(&local).earliest() {
        Some(dt) => Some(dt.timestamp()),
        None => tz
            .from_local_datetime(&(local + Duration::hours(1)))
            .earliest()
            .map(|dt| dt.timestamp()),
    }
}

/// One field as a bit set over `lo..=hi`.
fn field(text: &str, what: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("{what}: step {s:?} is not a positive number"))?;
                (r, step)
            }
            None => (part, 1),
        };
        let (a, b) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, what, lo, hi, names)?,
                value(b, what, lo, hi, names)?,
            )
        } else {
            let a = value(range, what, lo, hi, names)?;
            // `5/15` means from 5 to the end, every 15.
            (a, if part.contains('/') { hi } else { a })
        };
        if a > b {
            return Err(format!("{what}: range {range:?} runs backwards"));
        }
        let mut v = a;
        while v <= b {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

fn value(text: &str, what: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = names.iter().position(|n| *n == lower) {
        // Months are 1-based, weekdays 0-based.
        return Ok(i as u32 + lo);
    }
    match text.parse::<u32>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        Ok(v) => Err(format!("{what}: {v} is out of range {lo}-{hi}")),
        Err(_) => Err(format!(
            "{what}: {text:?} is not a number{}",
            if names.is_empty() { "" } else { " or a name" }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn at(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp()
    }
    fn show(t: i64, tz: Tz) -> String {
        Utc.timestamp_opt(t, 0)
            .unwrap()
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }
    fn next(expr: &str, tz: Tz, from: &str) -> String {
        let e = CronExpr::parse(expr).unwrap();
        show(e.next_after(at(from), tz).unwrap(), tz)
    }

    #[test]
    fn nightly_in_utc_and_berlin() {
        assert_eq!(
            next("30 2 * * *", Tz::UTC, "2026-03-01 00:00"),
            "2026-03-01 02:30 UTC"
        );
        assert_eq!(
            next("30 2 * * *", Tz::UTC, "2026-03-01 02:30"),
            "2026-03-02 02:30 UTC"
        );
        let b = chrono_tz::Europe::Berlin;
        // 2026-03-01 01:00 UTC = 02:00 CET.
        assert_eq!(
            next("30 2 * * *", b, "2026-03-01 01:00"),
            "2026-03-01 02:30 CET"
        );
        assert_eq!(
            CronExpr::parse("30 2 * * *")
                .unwrap()
                .next_after(at("2026-03-01 01:00"), b),
            Some(at("2026-03-01 01:30"))
        );
    }

    #[test]
    fn dst_gap_runs_an_hour_later_and_overlap_runs_once() {
        let b = chrono_tz::Europe::Berlin;
        // Spring forward 2026-03-29 02:00 CET → 03:00 CEST: 02:30 does not exist.
        assert_eq!(
            next("30 2 * * *", b, "2026-03-28 12:00"),
            "2026-03-29 03:30 CEST"
        );
        // Fall back 2026-10-25 03:00 CEST → 02:00 CET: 02:30 happens twice, runs once.
        let e = CronExpr::parse("30 2 * * *").unwrap();
        let first = e.next_after(at("2026-10-24 12:00"), b).unwrap();
        assert_eq!(show(first, b), "2026-10-25 02:30 CEST");
        assert_eq!(
            show(e.next_after(first, b).unwrap(), b),
            "2026-10-26 02:30 CET"
        );
    }

    #[test]
    fn fields_steps_lists_names() {
        assert_eq!(
            next("*/15 * * * *", Tz::UTC, "2026-01-01 10:07"),
            "2026-01-01 10:15 UTC"
        );
        assert_eq!(
            next("0 9-17/4 * * *", Tz::UTC, "2026-01-01 13:00"),
            "2026-01-01 17:00 UTC"
        );
        assert_eq!(
            next("0 0 * * mon", Tz::UTC, "2026-01-01 00:00"),
            "2026-01-05 00:00 UTC"
        );
        assert_eq!(
            next("0 0 * * 7", Tz::UTC, "2026-01-01 00:00"),
            "2026-01-04 00:00 UTC"
        );
        assert_eq!(
            next("0 0 1 feb *", Tz::UTC, "2026-01-01 00:00"),
            "2026-02-01 00:00 UTC"
        );
        assert_eq!(
            next("5,10 1 * * *", Tz::UTC, "2026-01-01 01:05"),
            "2026-01-01 01:10 UTC"
        );
        assert_eq!(
            next("@hourly", Tz::UTC, "2026-01-01 01:05"),
            "2026-01-01 02:00 UTC"
        );
        assert_eq!(
            next("0 0 29 2 *", Tz::UTC, "2026-03-01 00:00"),
            "2028-02-29 00:00 UTC"
        );
        // Both day fields restricted: either matches (the 13th, or a Friday).
        assert_eq!(
            next("0 0 13 * fri", Tz::UTC, "2026-01-01 00:00"),
            "2026-01-02 00:00 UTC"
        );
        assert!(CronExpr::parse("0 0 31 2 *")
            .unwrap()
            .next_after(0, Tz::UTC)
            .is_none());
    }

    #[test]
    fn bad_expressions_say_why() {
        for (e, why) in [
            ("* * * *", "5 fields"),
            ("60 * * * *", "minute: 60 is out of range 0-59"),
            ("* 24 * * *", "hour: 24"),
            ("* * 0 * *", "day-of-month: 0"),
            ("* * * 13 *", "month: 13"),
            ("* * * * 8", "day-of-week: 8"),
            ("*/0 * * * *", "step"),
            ("5-1 * * * *", "backwards"),
            ("x * * * *", "not a number"),
            ("@often", "unknown macro"),
        ] {
            let err = CronExpr::parse(e).unwrap_err();
            assert!(err.contains(why), "{e}: {err}");
        }
    }

    #[test]
    fn intervals_are_epoch_aligned() {
        let s = Schedule::Interval { secs: 300 };
        assert_eq!(s.next_after(0), Some(300));
        assert_eq!(s.next_after(299), Some(300));
        assert_eq!(s.next_after(300), Some(600));
    }
}
