//! Failure-group benchmark helper (run by `bench/groups.sh`).
//!
//! usage: seed_groups REDIS_URL seed N      FLUSHDB, then N failures in 10 kinds across the queues
//!                                          `orders` and `mail` (real job hashes from
//!                                          `enqueue_many`, failed the way an RQ 2.x worker leaves
//!                                          them: status, ended_at, zlib'd exc_info, the failed
//!                                          registry and a results-stream entry)
//!        seed_groups REDIS_URL catchup     empty index → one full pass; prints the time, the
//!                                          groups and the index's bytes per failure (MEMORY USAGE)

use std::time::Instant;

use engine::enqueue::{enqueue_many, NewJob, BATCH};
use engine::groups::{index, read};
use engine::{keys, Store};
use serde_json::json;

const KINDS: [(&str, &str, &str); 10] = [
    ("ValueError", "order {n} for '{u}' not found", "charge"),
    ("ValueError", "order {n} for '{u}' not found", "refund"),
    ("KeyError", "'sku-{n}'", "lookup"),
    (
        "ConnectionRefusedError",
        "[Errno 111] connect to 10.0.{m}.7:5432 refused",
        "sync",
    ),
    (
        "TimeoutError",
        "request {id} timed out after {n} ms",
        "fetch",
    ),
    (
        "TypeError",
        "unsupported operand type(s) for +: 'int' and 'str'",
        "total",
    ),
    (
        "PermissionError",
        "[Errno 13] Permission denied: '/srv/data/{n}.csv'",
        "export",
    ),
    (
        "json.decoder.JSONDecodeError",
        "Expecting value: line 1 column {n} (char {m})",
        "parse",
    ),
    ("RuntimeError", "lock {id} held by worker {m}", "settle"),
    (
        "smtplib.SMTPRecipientsRefused",
        "{'u{n}@example.com': (550, b'no such user')}",
        "send",
    ),
];

fn traceback(kind: usize, i: usize) -> String {
    let (ty, msg, func) = KINDS[kind];
    let msg = msg
        .replace("{n}", &(i * 7 + 3).to_string())
        .replace("{m}", &(i % 251).to_string())
        .replace("{u}", &format!("user{i}"))
        .replace(
            "{id}",
            &format!("{:032x}", i as u128 * 0x9e37_79b9_7f4a_7c15),
        );
    format!(
        "Traceback (most recent call last):\n  File \"/venv/lib/python3.12/site-packages/rq/worker.py\", line 1633, in perform_job\n    rv = job.perform()\n  File \"/venv/lib/python3.12/site-packages/rq/job.py\", line 1298, in _execute\n    result = self.func(*self.args, **self.kwargs)\n  File \"/srv/app/tasks.py\", line {}, in {func}\n    raise_it()\n{ty}: {msg}\n",
        40 + kind
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store = Store::connect(&args[1]).await.expect("connect");
    match args.get(2).map(String::as_str) {
        Some("seed") => seed(&store, args[3].parse().expect("N")).await,
        Some("catchup") => catchup(&store).await,
        _ => panic!("usage: seed_groups URL seed N | catchup"),
    }
}

async fn seed(store: &Store, n: usize) {
    let t = Instant::now();
    let mut c = store.conn();
    let _: () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();
    let now = engine::time::now();
    for start in (0..n).step_by(BATCH) {
        let range = start..(start + BATCH).min(n);
        let queue = |i: usize| {
            if i.is_multiple_of(3) {
                "mail"
            } else {
                "orders"
            }
        };
        let jobs: Vec<NewJob> = range
            .clone()
            .map(|i| {
                NewJob::new(queue(i), format!("tasks.{}", KINDS[i % 10].2))
                    .args(vec![json!(i), json!(format!("user{i}"))])
            })
            .collect();
        let ids = enqueue_many(store, jobs).await.expect("enqueue_many");
        let mut p = redis::pipe();
        for (i, id) in range.zip(&ids) {
            let tb = traceback(i % 10, i);
            let ended = engine::time::format_rq(now - (n - i) as f64 * 0.01);
            p.cmd("HSET")
                .arg(keys::job(id))
                .arg("status")
                .arg("failed")
                .arg("ended_at")
                .arg(&ended)
                .arg("exc_info")
                .arg(engine::codec::zlib::deflate(tb.as_bytes()))
                .ignore();
            p.cmd("ZADD")
                .arg(keys::failed(queue(i)))
                .arg(now + 31_536_000.0)
                .arg(id)
                .ignore();
            p.cmd("XADD")
                .arg(keys::results(id))
                .arg("*")
                .arg("type")
                .arg("2")
                .arg("exc_string")
                .arg(engine::result::encode_exc_string(&tb))
                .ignore();
        }
        p.cmd("DEL")
            .arg(keys::queue("mail"))
            .arg(keys::queue("orders"))
            .ignore();
        let _: () = p.query_async(&mut c).await.unwrap();
    }
    println!(
        "{}",
        json!({"seeded": n, "secs": t.elapsed().as_secs_f64()})
    );
}

async fn catchup(store: &Store) {
    let mut c = store.conn();
    let old: Vec<String> = redis::cmd("KEYS")
        .arg("taskmill:fg:*")
        .query_async(&mut c)
        .await
        .unwrap();
    if !old.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(&old)
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let t = Instant::now();
    let p = index::catch_up(store).await.expect("catch up");
    let secs = t.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let again = index::catch_up(store).await.expect("second pass");
    let pass_secs = t2.elapsed().as_secs_f64();
    let g = read::groups(store).await.unwrap();
    // Bench-only: KEYS on a private benchmark Redis, to weigh every index key.
    let fg: Vec<String> = redis::cmd("KEYS")
        .arg("taskmill:fg:*")
        .query_async(&mut c)
        .await
        .unwrap();
    let mut bytes = 0u64;
    for k in &fg {
        let b: Option<u64> = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(k)
            .arg("SAMPLES")
            .arg(0)
            .query_async(&mut c)
            .await
            .unwrap();
        bytes += b.unwrap_or(0);
    }
    let failures: u64 = g.items.iter().map(|g| g.count).sum();
    println!(
        "{}",
        json!({
            "catch_up_secs": secs,
            "indexed": p.indexed,
            "steady_pass_secs": pass_secs,
            "steady_pass_decoded": again.indexed,
            "groups": g.items.len(),
            "failures": failures,
            "counts": g.items.iter().map(|g| g.count).collect::<Vec<_>>(),
            "index_bytes": bytes,
            "bytes_per_failure": bytes as f64 / failures.max(1) as f64,
            "first_fingerprint": g.items.first().map(|g| g.fingerprint.clone()),
        })
    );
}
