//! The audit log: one JSON record per operator action in a capped Redis list (`taskmill:audit`).
//! Newest first (LPUSH); the cap is applied in the same MULTI as the push, so the list never
//! grows past `CAP` even with many writers.

use crate::model::{AuditEntry, Page};
use crate::{keys, Result, Store};

/// Most records kept.
pub const CAP: i64 = 10_000;
/// Largest page served.
pub const MAX_PAGE: u64 = 1000;

pub async fn record(store: &Store, entry: &AuditEntry) -> Result<()> {
    let json = serde_json::to_string(entry)?;
    let () = redis::pipe()
        .atomic()
        .lpush(keys::AUDIT, json)
        .ignore()
        .ltrim(keys::AUDIT, 0, (CAP - 1) as isize)
        .ignore()
        .query_async(&mut store.conn())
        .await?;
    Ok(())
}

/// Newest first. `limit` is capped at [`MAX_PAGE`]. A record that does not parse (written by
/// something else) is shown as action `unreadable` with its text as the target, not dropped.
pub async fn page(store: &Store, offset: u64, limit: u64) -> Result<Page<AuditEntry>> {
    let limit = limit.min(MAX_PAGE);
    let mut conn = store.conn();
    let (total, raw): (u64, Vec<Vec<u8>>) = if limit == 0 {
        (
            redis::cmd("LLEN")
                .arg(keys::AUDIT)
                .query_async(&mut conn)
                .await?,
            Vec::new(),
        )
    } else {
        let stop = offset.saturating_add(limit - 1).min(i64::MAX as u64);
        redis::pipe()
            .llen(keys::AUDIT)
            .lrange(
                keys::AUDIT,
                offset.min(i64::MAX as u64) as isize,
                stop as isize,
            )
            .query_async(&mut conn)
            .await?
    };
    let items = raw.iter().map(|r| parse(r)).collect();
    Ok(Page {
        items,
        total,
        offset,
        limit,
    })
}

/// The canonical name of an audit record's action, for records written before the names were
/// unified (`enqueue_now`, `requeue_failed`, `requeue_all`, `kill_horse`). Unknown names are
/// shown as they are.
pub fn canonical_name(recorded: &str) -> &str {
    match recorded {
        "enqueue_now" => "enqueue-now",
        "requeue_failed" => "requeue-queue",
        "requeue_all" => "requeue-all",
        "kill_horse" => "kill-horse",
        other => other,
    }
}

/// Records written before the names were unified show their canonical name.
fn parse(raw: &[u8]) -> AuditEntry {
    let parsed = serde_json::from_slice::<AuditEntry>(raw).map(|mut e| {
        e.action = canonical_name(&e.action).to_string();
        e
    });
    parsed.unwrap_or_else(|_| AuditEntry {
        at: 0.0,
        who: String::new(),
        action: "unreadable".into(),
        target: String::from_utf8_lossy(raw).chars().take(200).collect(),
        count: 0,
    })
}
