//! Small, pure formatting helpers shared by server-rendered pages and islands (no Redis, so they
//! compile into the wasm bundle too).

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in seconds as a short human age: `42s`, `3m 5s`, `2h 10m`, `4d 3h`.
pub fn age(secs: f64) -> String {
    if !secs.is_finite() {
        return "?".to_string();
    }
    let negative = secs < 0.0;
    let s = secs.abs().round() as u64;
    let text = match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    };
    if negative {
        format!("in {text}")
    } else {
        text
    }
}

/// Age of a unix timestamp relative to `now`, e.g. `3m 5s ago`, or `in 10s` for future times.
pub fn ago(at: Option<f64>, now: f64) -> String {
    match at {
        None => "—".to_string(),
        Some(t) if t > now => age(t - now),
        Some(t) => format!("{} ago", age(now - t)),
    }
}

/// Unix seconds as `2026-11-21 11:13:18 UTC` (second precision is enough for people).
pub fn timestamp(at: Option<f64>) -> String {
    match at {
        None => "—".to_string(),
        Some(t) if !t.is_finite() => "?".to_string(),
        Some(t) => engine::time::format_human(t),
    }
}

/// Seconds of work as `12.3s` / `4m 2s`.
pub fn duration(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        age(secs)
    }
}

/// Percent-encodes one URL path segment or query value (queue names are free text in RQ).
pub fn url_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn queue_href(name: &str) -> String {
    format!("/queues/{}", url_part(name))
}

pub fn queue_list_href(name: &str, list: &str) -> String {
    format!("/queues/{}?list={list}", url_part(name))
}

pub fn job_href(id: &str) -> String {
    format!("/jobs/{}", url_part(id))
}

/// The worker's row on `/workers` (its `id` is `worker-{dom_id}`, so the fragment must be too).
pub fn worker_href(name: &str) -> String {
    format!("/workers#worker-{}", dom_id(name))
}

/// Text for `<title>`: leptos_meta writes the title into the document head *unescaped*, so a
/// queue named `</title><meta http-equiv=refresh ...>` would become live markup. Escapes `&`,
/// `<`, `>` and quotes, shows control characters and bidi overrides as U+FFFD (a title must not
/// reorder itself), and cuts it at `TITLE_MAX` characters.
pub fn title_text(s: &str) -> String {
    const TITLE_MAX: usize = 120;
    let mut out = String::with_capacity(s.len().min(TITLE_MAX * 2));
    for (i, c) in s.chars().enumerate() {
        if i == TITLE_MAX {
            out.push('…');
            break;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() || is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Unicode bidi embedding, override and isolate controls (they can make text read backwards).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A stable DOM id fragment for a free-text name (ids must not contain spaces). Also the form
/// for free text inside a `class` (a job status or worker state read from Redis), so it can
/// only ever name one class of `[A-Za-z0-9_.~-]`.
pub fn dom_id(name: &str) -> String {
    url_part(name).replace('%', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1234), "1,234");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(age(5.2), "5s");
        assert_eq!(age(185.0), "3m 5s");
        assert_eq!(age(7800.0), "2h 10m");
        assert_eq!(age(-10.0), "in 10s");
        assert_eq!(ago(Some(90.0), 100.0), "10s ago");
        assert_eq!(ago(None, 100.0), "—");
    }

    #[test]
    fn timestamps_drop_fractions() {
        assert_eq!(timestamp(Some(0.5)), "1970-01-01 00:00:00 UTC");
        assert_eq!(timestamp(Some(1_795_259_733.9)), "2026-11-21 11:15:33 UTC");
        assert_eq!(timestamp(Some(-1.5)), "1969-12-31 23:59:58 UTC");
        assert_eq!(timestamp(None), "—");
    }

    #[test]
    fn titles_are_inert() {
        assert_eq!(
            title_text("m</title><meta http-equiv=\"refresh\">"),
            "m&lt;/title&gt;&lt;meta http-equiv=&quot;refresh&quot;&gt;"
        );
        assert_eq!(title_text("a&b\u{202E}c\0"), "a&amp;b\u{FFFD}c\u{FFFD}");
        assert_eq!(title_text(&"x".repeat(500)).chars().count(), 121);
    }

    #[test]
    fn url_parts_escape_everything_odd() {
        assert_eq!(url_part("default"), "default");
        assert_eq!(url_part("a b/c?"), "a%20b%2Fc%3F");
        assert_eq!(queue_href("x&y"), "/queues/x%26y");
        assert_eq!(dom_id("a b"), "a_20b");
        assert_eq!(worker_href("h.1 x"), "/workers#worker-h.1_20x");
    }
}
