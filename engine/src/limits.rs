//! Every bound the engine puts on operator input, in one place. The console, the JSON API and the
//! CLI only translate input into these checks; none of them has limits of its own.

use crate::{Error, Result};

/// Longest job id (RQ allows `[A-Za-z0-9_-]+`; the bound keeps a key from being megabytes).
pub const MAX_JOB_ID_LEN: usize = 128;
/// Longest queue name (free text in RQ).
pub const MAX_QUEUE_NAME_LEN: usize = 200;
/// Longest worker name (free text in RQ: `<host>.<pid>.<random>.<slot>` with a 253-byte host).
pub const MAX_WORKER_NAME_LEN: usize = 512;
/// Largest slot count of a Taskmill worker pool (`--concurrency`, `scale`).
pub const MAX_SLOTS: u64 = 256;
/// Longest suspension in seconds (a year: longer is surely a typo).
pub const MAX_SUSPEND_SECS: u64 = 365 * 86_400;
/// Most job ids one action takes (a console selection or one API request).
pub const MAX_IDS: usize = 1000;

/// `[A-Za-z0-9_-]`, 1 to [`MAX_JOB_ID_LEN`] bytes (RQ 2.8+).
pub fn validate_job_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_JOB_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidJobId(shorten(id)))
    }
}

/// A failure group's fingerprint: 16 lowercase hex digits, or `undecodable`.
pub fn validate_fingerprint(fp: &str) -> Result<()> {
    let hex = fp.len() == 16
        && fp
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex || fp == crate::groups::UNDECODABLE {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "invalid failure group {:?}: 16 hex digits or \"undecodable\"",
            shorten(fp)
        )))
    }
}

/// Queue names are free text in RQ; empty, huge and control-character names are refused.
pub fn validate_queue_name(name: &str) -> Result<()> {
    if free_text_ok(name, MAX_QUEUE_NAME_LEN) {
        Ok(())
    } else {
        Err(Error::InvalidQueueName(shorten(name)))
    }
}

/// Worker names are free text in RQ; bounded like queue names.
pub fn validate_worker_name(name: &str) -> Result<()> {
    if free_text_ok(name, MAX_WORKER_NAME_LEN) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "invalid worker name {:?}: 1-{MAX_WORKER_NAME_LEN} bytes without control characters",
            shorten(name)
        )))
    }
}

/// A pool's slot count: 1 to [`MAX_SLOTS`].
pub fn validate_slots(slots: u64) -> Result<u64> {
    if (1..=MAX_SLOTS).contains(&slots) {
        Ok(slots)
    } else {
        Err(Error::Invalid(format!(
            "slot count must be a whole number from 1 to {MAX_SLOTS}, got {slots}"
        )))
    }
}

/// A suspension: `None` (until resumed) or 1 to [`MAX_SUSPEND_SECS`] seconds.
pub fn validate_suspend(secs: Option<u64>) -> Result<Option<u64>> {
    match secs {
        Some(s) if !(1..=MAX_SUSPEND_SECS).contains(&s) => Err(Error::Invalid(format!(
            "suspend duration must be from 1 to {MAX_SUSPEND_SECS} seconds, got {s}"
        ))),
        other => Ok(other),
    }
}

/// 1 to [`MAX_IDS`] ids, each valid.
pub fn validate_ids(ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Err(Error::Invalid("no job ids given".into()));
    }
    if ids.len() > MAX_IDS {
        return Err(Error::Invalid(format!(
            "too many job ids ({}); at most {MAX_IDS} per action",
            ids.len()
        )));
    }
    ids.iter().try_for_each(|id| validate_job_id(id))
}

/// Longest search query, in bytes.
pub const MAX_SEARCH_QUERY_LEN: usize = 500;
/// Most terms and filters in one search query.
pub const MAX_SEARCH_TERMS: usize = 16;
/// Largest page of search results.
pub const MAX_SEARCH_LIMIT: u64 = 100;
/// Ids read per search step (SCAN COUNT, LRANGE / ZRANGE window, HMGET pipeline size).
pub const SEARCH_STEP: u64 = 250;
/// Most jobs one search page examines before answering with a cursor.
pub const SEARCH_PAGE_JOBS: u64 = 20_000;
/// Longest one search page spends before answering with a cursor, in milliseconds.
pub const SEARCH_PAGE_MILLIS: u64 = 250;
/// Most matches a bulk action on a search acts on (more: narrow the query).
pub const MAX_SEARCH_MATCHES: usize = 10_000;
/// Longest a bulk action's search may run to collect its matches, in seconds.
pub const SEARCH_BULK_SECS: u64 = 30;

/// A search page size: 1 to [`MAX_SEARCH_LIMIT`].
pub fn validate_search_limit(limit: u64) -> Result<u64> {
    if (1..=MAX_SEARCH_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::Invalid(format!(
            "limit must be between 1 and {MAX_SEARCH_LIMIT}, got {limit}"
        )))
    }
}

/// Longest cron job name (free text in RQ; part of `rq:cron_job:<name>:jobs`).
pub const MAX_CRON_NAME_LEN: usize = 200;

/// Cron job names: 1 to [`MAX_CRON_NAME_LEN`] bytes without control characters.
pub fn validate_cron_name(name: &str) -> Result<()> {
    if free_text_ok(name, MAX_CRON_NAME_LEN) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "invalid cron job name {:?}: 1-{MAX_CRON_NAME_LEN} bytes without control characters",
            shorten(name)
        )))
    }
}

fn free_text_ok(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && !s.chars().any(char::is_control)
}

/// Echoed input is cut to 200 characters.
pub(crate) fn shorten(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Most members of one chord (RQ groups are unbounded; a chord's completion check walks them).
pub const MAX_GROUP_MEMBERS: usize = MAX_IDS;

/// A chord / RQ group name: like a job id, `[A-Za-z0-9_-]`, 1 to [`MAX_JOB_ID_LEN`] bytes (RQ's
/// own names are uuid4 hex), so it is safe in a URL path and a key.
pub fn validate_group_name(name: &str) -> Result<()> {
    validate_job_id(name).map_err(|_| {
        Error::Invalid(format!(
            "invalid group name {:?}: 1-128 characters of [A-Za-z0-9_-]",
            shorten(name)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(validate_job_id("a-b_9").is_ok());
        assert!(validate_job_id("a b").is_err());
        assert!(validate_job_id(&"x".repeat(129)).is_err());
        assert!(validate_queue_name("x\ny").is_err());
        assert!(validate_worker_name(&"w".repeat(512)).is_ok());
        assert!(validate_worker_name(&"w".repeat(513)).is_err());
        assert!(validate_slots(0).is_err());
        assert_eq!(validate_slots(256).unwrap(), 256);
        assert!(validate_slots(257).is_err());
        assert!(validate_suspend(Some(0)).is_err());
        assert_eq!(validate_suspend(None).unwrap(), None);
        assert!(validate_suspend(Some(MAX_SUSPEND_SECS + 1)).is_err());
        assert!(validate_ids(&[]).is_err());
        assert!(validate_ids(&vec!["a".to_string(); 1001]).is_err());
    }
}
