//! Search benchmark helper (run by `bench/search.sh`).
//!
//! usage: seed_search REDIS_URL seed N       FLUSHDB, then N Taskmill (JSON) jobs across the
//!                                           queues `orders` and `mail` (a third of them failed,
//!                                           with a zlib'd exc_info), one of which alone carries
//!                                           the needle `zebra-ostrich-7` in its args
//!        seed_search REDIS_URL measure Q..  for each query: the first page's latency (limit 100), then the
//!                                           whole search (following cursors): pages, total time,
//!                                           jobs examined, matches; one JSON line per query

use std::time::Instant;

use engine::enqueue::{enqueue_many, NewJob, BATCH};
use engine::{keys, Store};
use serde_json::json;

const NEEDLE: &str = "zebra-ostrich-7";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store = Store::connect(&args[1]).await.expect("connect");
    match args.get(2).map(String::as_str) {
        Some("seed") => seed(&store, args[3].parse().expect("N")).await,
        Some("measure") => {
            for q in &args[3..] {
                measure(&store, q).await;
            }
        }
        _ => panic!("usage: seed_search URL seed N | measure QUERY..."),
    }
}

async fn seed(store: &Store, n: usize) {
    let t = Instant::now();
    let mut c = store.conn();
    let _: () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();
    let queue = |i: usize| {
        if i.is_multiple_of(3) {
            "mail"
        } else {
            "orders"
        }
    };
    for start in (0..n).step_by(BATCH) {
        let range = start..(start + BATCH).min(n);
        let jobs: Vec<NewJob> = range
            .clone()
            .map(|i| {
                let who = if i == n / 2 + 1 {
                    NEEDLE.to_string()
                } else {
                    format!("customer-{i}")
                };
                NewJob::new(
                    queue(i),
                    if i.is_multiple_of(3) {
                        "mail.send"
                    } else {
                        "orders.charge"
                    },
                )
                .args(vec![
                    json!(who),
                    json!({"sku": i, "note": "gift wrap, express"}),
                ])
            })
            .collect();
        let ids = enqueue_many(store, jobs).await.expect("enqueue_many");
        let mut p = redis::pipe();
        for (i, id) in range.zip(&ids) {
            if i % 3 != 1 {
                continue;
            }
            let tb = format!("Traceback (most recent call last):\nValueError: card {i} declined\n");
            p.cmd("LREM")
                .arg(keys::queue(queue(i)))
                .arg(0)
                .arg(id)
                .ignore();
            p.cmd("HSET")
                .arg(keys::job(id))
                .arg("status")
                .arg("failed")
                .arg("exc_info")
                .arg(engine::codec::zlib::deflate(tb.as_bytes()))
                .ignore();
            p.cmd("ZADD")
                .arg(keys::failed(queue(i)))
                .arg(engine::time::now() + 31_536_000.0)
                .arg(id)
                .ignore();
        }
        let _: () = p.query_async(&mut c).await.unwrap();
    }
    println!(
        "{}",
        json!({"seeded": n, "secs": t.elapsed().as_secs_f64()})
    );
}

async fn measure(store: &Store, q: &str) {
    let t = Instant::now();
    let first = engine::search::search(store, q, None, 100)
        .await
        .expect("search");
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let (mut pages, mut matches, mut cursor, mut scanned) =
        (1u64, first.items.len(), first.cursor.clone(), first.scanned);
    let mut slowest_ms = first_ms;
    while let Some(c) = cursor {
        let p0 = Instant::now();
        let page = engine::search::search(store, q, Some(&c), 100)
            .await
            .expect("search");
        slowest_ms = slowest_ms.max(p0.elapsed().as_secs_f64() * 1e3);
        pages += 1;
        matches += page.items.len();
        scanned = page.scanned;
        cursor = page.cursor;
    }
    let total_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{}",
        json!({"query": q, "first_page_ms": round(first_ms), "first_page_scanned": first.scanned,
               "first_page_items": first.items.len(), "full_ms": round(total_ms), "pages": pages,
               "slowest_page_ms": round(slowest_ms), "scanned": scanned, "matches": matches})
    );
}

fn round(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}
