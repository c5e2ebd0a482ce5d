//! RQ's timestamp text (`%Y-%m-%dT%H:%M:%S.%fZ`, UTC) and unix-seconds helpers, without a date
//! crate so the wasm build stays small.

/// Formats unix seconds as RQ does: `2026-11-21T11:13:18.193102Z`.
pub fn format_rq(unix: f64) -> String {
    let micros_total = (unix * 1_000_000.0).round() as i64;
    let secs = micros_total.div_euclid(1_000_000);
    let micros = micros_total.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Whole seconds as `2026-11-21 11:13:18 UTC` (for people; fractions are dropped).
pub fn format_human(unix: f64) -> String {
    use std::fmt::Write as _;
    let secs = unix.floor() as i64;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    );
    out
}

/// Parses what RQ's `utcparse` accepts: 1–6 fractional digits or none, literal `Z`.
pub fn parse_rq(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut dp = date.splitn(3, '-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (time, None),
    };
    let mut tp = hms.splitn(3, ':');
    let hh: i64 = tp.next()?.parse().ok()?;
    let mm: i64 = tp.next()?.parse().ok()?;
    let ss: i64 = tp.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let micros = match frac {
        None => 0,
        Some(f) if (1..=6).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<i64>().ok()? * 10_i64.pow(6 - f.len() as u32)
        }
        Some(_) => return None,
    };
    let days = days_from_civil(y, m, d);
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64 + micros as f64 / 1e6)
}

/// Current unix time in seconds.
#[cfg(feature = "runtime")]
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

// Howard Hinnant's civil-date algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_fixture_timestamps() {
        let t = parse_rq("2026-11-21T11:15:34.000000Z").unwrap();
        assert_eq!(t, 1795259734.0);
        assert_eq!(format_rq(1795259732.740648), "2026-11-21T11:15:32.740648Z");
        assert_eq!(
            parse_rq("2026-11-21T11:15:03.923Z").unwrap(),
            1795259703.923
        );
        assert_eq!(parse_rq("2026-11-21T11:15:03Z").unwrap(), 1795259703.0);
    }

    #[test]
    fn rejects_what_rq_rejects() {
        assert!(parse_rq("2026-11-21T11:15:03+00:00").is_none());
        assert!(parse_rq("2026-11-21 11:15:03Z").is_none());
        assert!(parse_rq("2026-11-21T11:15:03.1234567Z").is_none());
        assert!(parse_rq("").is_none());
    }
}
