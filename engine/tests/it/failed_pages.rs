//! `/failed` and `/scheduled` (the same merge, soonest first) across several queues: every page, shallow (merged directly) or deep (found by
//! bisecting on score in Lua), equals the same window of one full sort, including pages that
//! start inside a 400-way tie spread over three queues, scores of `+inf` and a registry of
//! the wrong type; reads write nothing.

use engine::model::JobList;
use engine::{keys, registry};

use crate::read::digest;
use crate::support;

#[tokio::test]
async fn every_failed_page_is_a_window_of_one_full_merge() {
    every_page_is_a_window(JobList::Failed).await;
}

#[tokio::test]
async fn every_scheduled_page_is_a_window_of_one_ascending_merge() {
    every_page_is_a_window(JobList::Scheduled).await;
}

async fn every_page_is_a_window(list: JobList) {
    let asc = registry::ascending(list);
    let store = support::store().await;
    let n = 3_000u32;
    // A bulk failure / schedule of 400 jobs at one score, placed on deep pages either way.
    let tie = if asc { 1.7e9 + 300.0 } else { 1.7e9 + 100.0 };
    let mut all: Vec<(f64, &str, String)> = Vec::new();
    let mut p = redis::pipe();
    for q in ["a", "b", "c", "empty", "broken"] {
        p.sadd(keys::QUEUES, keys::queue(q));
    }
    // A failed registry of the wrong type counts as empty rather than failing every page.
    p.set(registry::key("broken", list), "not a sorted set");
    for i in 0..n {
        // Uneven queues; about two jobs per score, a bulk failure of 400 jobs at one score, a
        // few never-trimmed ones (RQ's failure_ttl=-1 scores them -1) and a few at +inf.
        let q = ["a", "a", "b", "c", "a"][(i % 5) as usize];
        let score = match i {
            _ if i % 97 == 0 => f64::INFINITY,
            _ if i % 89 == 0 => -1.0,
            2_000..2_400 => tie,
            _ => 1.7e9 + f64::from((i * 7_919) % 1_300) / 4.0,
        };
        let arg = if score.is_infinite() {
            "+inf".to_string()
        } else {
            format!("{score:?}")
        };
        let id = format!("j{i:05}");
        p.zadd(registry::key(q, list), &id, arg);
        all.push((score, q, id));
    }
    let _: () = p.query_async(&mut store.conn()).await.unwrap();
    // Newest first; ties queue by queue (by name), then by id, descending (all ascending for
    // scheduled: soonest first).
    all.sort_by(|a, b| {
        let (x, y) = if asc { (a, b) } else { (b, a) };
        (x.0.total_cmp(&y.0))
            .then(a.1.cmp(b.1))
            .then_with(|| x.2.cmp(&y.2))
    });

    let before = digest(&store).await;
    let mut windows: Vec<(u64, u64)> = (0..n as u64).step_by(173).map(|o| (o, 50)).collect();
    windows.extend([
        (950, 50),
        (990, 20),
        (1_000, 500),
        (u64::from(n) - 1, 50),
        (u64::from(n), 10),
        (5_000, 10),
        (2_500, 0),
    ]);
    // Pages that start inside the 400-way tie.
    let tie_at = all.iter().position(|(s, ..)| *s == tie).unwrap() as u64;
    let ties = [0, 7, 230, 250, 320, 390];
    windows.extend(ties.map(|t| (tie_at + t, 40)));
    assert!(tie_at > registry::SHALLOW, "the tie is on deep pages");
    assert!(windows.iter().any(|(o, l)| o + l > registry::SHALLOW));
    for (offset, limit) in windows {
        let page = registry::across_all(&store, list, offset, limit)
            .await
            .unwrap();
        let got: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
        let want: Vec<&str> = all
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(.., id)| id.as_str())
            .collect();
        assert_eq!((page.total, got), (u64::from(n), want), "offset {offset}");
    }
    assert_eq!(digest(&store).await, before, "reads must not write");
}
