//! The search query language, parsed once and bounded (`crate::limits`): free-text terms
//! (every term must match), `"quoted phrases"` (one term, spaces kept), and filters
//! `queue:`, `status:`, `func:`, `worker:`, `exc:` whose values may be quoted; for Celery tasks
//! `name:` (task name), `state:` (Celery state) and `backend:rq|celery` (which system to search). An unknown
//! `word:` prefix is plain text (`http://host` is a term). `*` and `?` are literal characters:
//! matching is a case-insensitive substring test, so a wildcard-laden query costs no more than
//! any other.

use crate::limits::{MAX_SEARCH_QUERY_LEN, MAX_SEARCH_TERMS};
use crate::{Error, Result};

/// One parsed query. Terms and the text filters are lowercased (matching is case-insensitive);
/// `queue` is exact (RQ queue names are case-sensitive) and `status` is one of RQ's statuses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<String>,
    /// The terms as typed (a job id is case-sensitive).
    pub raw_terms: Vec<String>,
    pub queue: Option<String>,
    pub status: Option<String>,
    pub func: Option<String>,
    pub worker: Option<String>,
    pub exc: Option<String>,
    /// Celery's task name (lowercased substring, like `func:`).
    pub name: Option<String>,
    /// Celery's task state, uppercased (one of `celery::tasks::STATES`).
    pub state: Option<String>,
    /// `rq` or `celery`: search only that system.
    pub backend: Option<String>,
}

/// The statuses `status:` takes (RQ 2.x's `JobStatus`).
pub const STATUSES: [&str; 9] = [
    "queued",
    "started",
    "finished",
    "failed",
    "deferred",
    "scheduled",
    "canceled",
    "stopped",
    "created",
];

impl Query {
    /// Whether matching needs the decoded payload, description, meta and exception text (any
    /// free text or `exc:`), or only the cheap fields.
    pub fn needs_text(&self) -> bool {
        !self.terms.is_empty() || self.exc.is_some()
    }

    /// Whether RQ's jobs are searched: not when `backend:celery` or a Celery-only filter
    /// (`name:`, `state:`) is given.
    pub fn searches_rq(&self) -> bool {
        self.backend.as_deref() != Some("celery") && self.name.is_none() && self.state.is_none()
    }

    /// Whether Celery's tasks are searched: not when `backend:rq` or an RQ-only filter
    /// (`queue:`, `status:`) is given.
    pub fn searches_celery(&self) -> bool {
        self.backend.as_deref() != Some("rq") && self.queue.is_none() && self.status.is_none()
    }

    /// The query's one bare word, if it is all there is and could be a job id.
    pub fn lone_id(&self) -> Option<&str> {
        let plain = self.queue.is_none()
            && self.status.is_none()
            && self.name.is_none()
            && self.state.is_none()
            && self.func.is_none()
            && self.worker.is_none()
            && self.exc.is_none();
        match self.raw_terms.as_slice() {
            [t] if plain => Some(t.as_str()),
            _ => None,
        }
    }
}

/// Parses `text`. Refused (`Error::Invalid`, a 400): empty, longer than
/// [`MAX_SEARCH_QUERY_LEN`] bytes, more than [`MAX_SEARCH_TERMS`] terms and filters, an
/// unterminated quote, an empty or repeated filter, an unknown status.
pub fn parse(text: &str) -> Result<Query> {
    if text.len() > MAX_SEARCH_QUERY_LEN {
        return Err(invalid(format!(
            "the query is {} bytes; at most {MAX_SEARCH_QUERY_LEN}",
            text.len()
        )));
    }
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(invalid("the query contains control characters".into()));
    }
    let mut q = Query::default();
    let mut count = 0;
    for token in tokens(text)? {
        count += 1;
        if count > MAX_SEARCH_TERMS {
            return Err(invalid(format!(
                "more than {MAX_SEARCH_TERMS} terms and filters; narrow the query"
            )));
        }
        match token {
            Token::Text(t) => {
                q.terms.push(t.to_lowercase());
                q.raw_terms.push(t);
            }
            Token::Filter(name, value) => {
                if value.is_empty() {
                    return Err(invalid(format!("{name}: needs a value")));
                }
                let slot = match name {
                    "queue" => &mut q.queue,
                    "status" => &mut q.status,
                    "func" => &mut q.func,
                    "worker" => &mut q.worker,
                    "name" => &mut q.name,
                    "state" => &mut q.state,
                    "backend" => &mut q.backend,
                    _ => &mut q.exc,
                };
                if slot.is_some() {
                    return Err(invalid(format!("{name}: is given twice; give it once")));
                }
                *slot = Some(match name {
                    "queue" => value,
                    "state" => value.to_uppercase(),
                    _ => value.to_lowercase(),
                });
            }
        }
    }
    if count == 0 {
        return Err(invalid(
            "the query is empty: type words to find, a job id, or filters such as status:failed"
                .into(),
        ));
    }
    if let Some(s) = &q.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(invalid(format!(
                "unknown status {:?}; one of {}",
                crate::value::truncate_chars(s, 40),
                STATUSES.join(", ")
            )));
        }
    }
    if let Some(name) = &q.queue {
        crate::limits::validate_queue_name(name)?;
    }
    if let Some(s) = &q.state {
        if !CELERY_STATES.contains(&s.as_str()) {
            return Err(invalid(format!(
                "unknown Celery state {:?}; one of {}",
                crate::value::truncate_chars(s, 40),
                CELERY_STATES.join(", ")
            )));
        }
    }
    if let Some(b) = &q.backend {
        if b != "rq" && b != "celery" {
            return Err(invalid(format!(
                "unknown backend {:?}; rq or celery",
                crate::value::truncate_chars(b, 40)
            )));
        }
    }
    Ok(q)
}

enum Token {
    Text(String),
    Filter(&'static str, String),
}

const FILTERS: [&str; 8] = [
    "queue", "status", "func", "worker", "exc", "name", "state", "backend",
];

/// The states `state:` takes (Celery's; the same list as `celery::tasks::STATES`).
pub const CELERY_STATES: [&str; 8] = [
    "PENDING", "RECEIVED", "STARTED", "SUCCESS", "FAILURE", "RETRY", "REVOKED", "REJECTED",
];

/// Splits on whitespace; `"..."` is one token (no escapes: a phrase cannot hold a quote).
fn tokens(text: &str) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(body) = rest.strip_prefix('"') {
            let (phrase, after) = quoted(body)?;
            if !phrase.trim().is_empty() {
                out.push(Token::Text(phrase.to_string()));
            }
            rest = after;
        } else {
            let filter = FILTERS.iter().find(|f| {
                // Bytes, not `&rest[..n]`: `rest` may start with a multi-byte character.
                rest.len() > f.len()
                    && rest.as_bytes()[..f.len()].eq_ignore_ascii_case(f.as_bytes())
                    && rest.as_bytes()[f.len()] == b':'
            });
            match filter {
                Some(name) => {
                    let value = &rest[name.len() + 1..];
                    let (v, after) = match value.strip_prefix('"') {
                        Some(body) => quoted(body)?,
                        None => word(value),
                    };
                    out.push(Token::Filter(name, v.to_string()));
                    rest = after;
                }
                None => {
                    let (w, after) = word(rest);
                    out.push(Token::Text(w.to_string()));
                    rest = after;
                }
            }
        }
        rest = rest.trim_start();
    }
    Ok(out)
}

/// The text up to the closing quote, and what follows it.
fn quoted(body: &str) -> Result<(&str, &str)> {
    match body.find('"') {
        Some(end) => Ok((&body[..end], &body[end + 1..])),
        None => Err(invalid("a quote is not closed".into())),
    }
}

/// The text up to the next whitespace, and what follows it.
fn word(s: &str) -> (&str, &str) {
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn invalid(message: String) -> Error {
    Error::Invalid(format!("invalid search: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_phrases_and_filters() {
        let q = parse(r#"Charge "order 42 failed" queue:Billing status:FAILED func:"tasks.pay" exc:valueerror worker:w1 http://x"#)
            .unwrap();
        assert_eq!(q.terms, ["charge", "order 42 failed", "http://x"]);
        assert_eq!(q.queue.as_deref(), Some("Billing"));
        assert_eq!(q.status.as_deref(), Some("failed"));
        assert_eq!(q.func.as_deref(), Some("tasks.pay"));
        assert_eq!(q.exc.as_deref(), Some("valueerror"));
        assert_eq!(q.worker.as_deref(), Some("w1"));
        assert!(q.needs_text());
        assert_eq!(parse("abC-123").unwrap().lone_id(), Some("abC-123"));
        assert_eq!(parse("status:failed").unwrap().lone_id(), None);
        assert!(!parse("status:failed func:x").unwrap().needs_text());
        let q = parse("name:Tasks.Add state:failure backend:celery order-7").unwrap();
        assert_eq!(q.name.as_deref(), Some("tasks.add"));
        assert_eq!(q.state.as_deref(), Some("FAILURE"));
        assert!(q.searches_celery() && !q.searches_rq());
        assert!(!parse("status:failed x").unwrap().searches_celery());
        assert!(parse("x").unwrap().searches_celery() && parse("x").unwrap().searches_rq());
        // Wildcards are literal text, not patterns.
        assert_eq!(parse("*?*").unwrap().terms, ["*?*"]);
    }

    #[test]
    fn bad_queries_are_refused() {
        let long = "a ".repeat(300);
        let many = "a ".repeat(MAX_SEARCH_TERMS + 1);
        for bad in [
            "",
            "   ",
            "\"unterminated",
            "queue:\"x",
            "status:nope",
            "queue:a queue:b",
            "state:nope",
            "backend:sidekiq",
            "func:",
            "a\u{0}b",
            long.as_str(),
            many.as_str(),
            "\"\"",
            "ééééééé \"",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Invalid, "{bad:?}");
        }
        let deep = "\"".repeat(400);
        assert!(parse(&deep).is_err() || parse(&deep).unwrap().terms.is_empty());
    }
}
