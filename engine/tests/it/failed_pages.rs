//! `/failed` across several queues: every page, shallow (merged directly) or deep (found by
//! bisecting on score), equals the same window of one full sort, including ties at a page edge
//! and scores of `+inf` (RQ's `failure_ttl=-1`); reads write nothing.

use engine::{keys, registry};

use crate::read::digest;
use crate::support;

#[tokio::test]
async fn every_failed_page_is_a_window_of_one_full_merge() {
    let store = support::store().await;
    let n = 3_000u32;
    let mut all: Vec<(f64, String)> = Vec::new();
    let mut p = redis::pipe();
    for q in ["a", "b", "c", "empty"] {
        p.sadd(keys::QUEUES, keys::queue(q));
    }
    for i in 0..n {
        // Uneven queues; about two jobs per score, a bulk failure of 400 jobs at one score, and
        // a few that never expire.
        let q = ["a", "a", "b", "c", "a"][(i % 5) as usize];
        let score = match i {
            _ if i % 97 == 0 => f64::INFINITY,
            2_000..2_400 => 1.7e9 + 100.0,
            _ => 1.7e9 + f64::from((i * 7_919) % 1_300) / 4.0,
        };
        let arg = if score.is_infinite() {
            "+inf".to_string()
        } else {
            format!("{score:?}")
        };
        let id = format!("j{i:05}");
        p.zadd(keys::failed(q), &id, arg);
        all.push((score, id));
    }
    let _: () = p.query_async(&mut store.conn()).await.unwrap();
    all.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.cmp(&a.1)));

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
    let tie_at = all.iter().position(|(s, _)| *s == 1.7e9 + 100.0).unwrap() as u64;
    windows.extend([(tie_at, 25), (tie_at + 7, 100), (tie_at + 390, 30)]);
    assert!(windows.iter().any(|(o, l)| o + l > registry::SHALLOW));
    for (offset, limit) in windows {
        let page = registry::failed_all(&store, offset, limit).await.unwrap();
        let got: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
        let want: Vec<&str> = all
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(_, id)| id.as_str())
            .collect();
        assert_eq!((page.total, got), (u64::from(n), want), "offset {offset}");
    }
    assert_eq!(digest(&store).await, before, "reads must not write");
}
