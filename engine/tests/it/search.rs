//! Search over real jobs: Python RQ 2.12 pickle jobs and JSONSerializer jobs, Taskmill JSON
//! jobs; terms, phrases and filters; exception text from `exc_info` and the results stream;
//! cursor continuation (every match exactly once over pages, in both the keyspace SCAN and the
//! list walk); bad input refused; the bulk actions with a confirmed count.

use std::collections::HashSet;

use engine::actions::{perform, Action, Outcome};
use engine::enqueue::{enqueue, NewJob};
use engine::search::search;
use engine::{keys, ErrorKind, Store};
use redis::AsyncCommands;
use serde_json::json;

use crate::support::{self, python, run_python};

/// Ids of every match of `q`, following cursors, with `limit` per page; asserts each page's
/// bounds and returns (ids in order, final `scanned`).
async fn all_pages(store: &Store, q: &str, limit: u64) -> (Vec<String>, u64) {
    let (mut ids, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = search(store, q, cursor.as_deref(), limit).await.unwrap();
        assert!(page.items.len() as u64 <= limit);
        assert!(page.exact.is_none());
        ids.extend(page.items.into_iter().map(|j| j.id));
        pages += 1;
        assert!(pages < 1000, "the cursor must make progress");
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return (ids, page.scanned),
        }
    }
}

async fn ids_of(store: &Store, q: &str) -> Vec<String> {
    let mut v = all_pages(store, q, 100).await.0;
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Marks a queued job failed the way an RQ worker leaves it, with a zlib'd `exc_info`.
async fn fail(store: &Store, queue: &str, id: &str, traceback: &str) {
    let mut conn = store.conn();
    let _: () = conn.lrem(keys::queue(queue), 0, id).await.unwrap();
    let _: () = conn
        .zadd(keys::failed(queue), id, 1_900_000_000)
        .await
        .unwrap();
    let _: () = conn.hset(keys::job(id), "status", "failed").await.unwrap();
    let exc = engine::codec::zlib::deflate(traceback.as_bytes());
    let _: () = conn.hset(keys::job(id), "exc_info", exc).await.unwrap();
}

#[tokio::test]
async fn finds_strings_inside_pickle_and_json_args_with_filters_and_phrases() {
    let url = support::fresh_url();
    let Some(py) = python() else {
        return;
    };
    // Custom descriptions: the needles are only inside the payloads (RQ's default description
    // is the call string, which would match without decoding anything).
    let code = r#"
import sys
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
r = Redis.from_url(sys.argv[1])
qp = Queue('sp', connection=r)
qj = Queue('sj', connection=r, serializer=JSONSerializer)
a = qp.enqueue('billing.charge', 'order for Zanzibar-7731', amount=3, description='charge')
b = qj.enqueue('billing.refund', {'customer': 'Quokka Ltd'}, description='refund')
c = qp.enqueue('billing.noise', 'nothing here', description='noise')
print(a.id, b.id, c.id)
"#;
    let out = run_python(&py, &["-c", code, &url]);
    let made: Vec<String> = out.split_whitespace().map(str::to_string).collect();
    let (a, b, c) = (made[0].clone(), made[1].clone(), made[2].clone());
    let store = Store::connect(&url).await.unwrap();
    // A Taskmill (JSON) job, description also overwritten.
    let t = enqueue(
        &store,
        NewJob::new("tq", "shop.ship").args(vec![json!({"parcel": "Wombat \"express\" 9"})]),
    )
    .await
    .unwrap();
    let _: () = store
        .conn()
        .hset(keys::job(&t), "description", "ship")
        .await
        .unwrap();

    assert_eq!(
        ids_of(&store, "zanzibar-7731").await,
        [a.as_str()],
        "pickle args"
    );
    assert_eq!(
        ids_of(&store, "quokka").await,
        [b.as_str()],
        "JSON args (rq)"
    );
    assert_eq!(
        ids_of(&store, "WOMBAT").await,
        [t.as_str()],
        "JSON args (taskmill)"
    );
    // A needle with quotes matches the raw string, not only its repr.
    assert_eq!(ids_of(&store, r#"wombat "express""#).await, [t.as_str()]);
    assert_eq!(ids_of(&store, "amount=3").await, [a.as_str()], "kwargs");
    assert_eq!(ids_of(&store, "\"order for zanzibar\"").await, [a.as_str()]);
    assert!(ids_of(&store, "\"zanzibar for order\"").await.is_empty());
    assert_eq!(
        ids_of(&store, "order zanzibar").await,
        [a.as_str()],
        "terms AND"
    );
    assert!(ids_of(&store, "order quokka").await.is_empty());
    // Filters narrow (list walk for queue:/status:, keyspace otherwise).
    assert_eq!(ids_of(&store, "queue:sj quokka").await, [b.as_str()]);
    assert!(ids_of(&store, "queue:sp quokka").await.is_empty());
    assert_eq!(ids_of(&store, "func:refund").await, [b.as_str()]);
    assert_eq!(
        ids_of(&store, "status:queued func:billing.").await,
        sorted(vec![a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(
        ids_of(&store, "queue:sp").await,
        sorted(vec![a.clone(), c.clone()])
    );
    assert!(ids_of(&store, "status:failed").await.is_empty());

    // Exception text: legacy exc_info, and the results stream's exc_string (which wins).
    fail(
        &store,
        "sp",
        &c,
        "Traceback...\nValueError: gateway Platypus timed out",
    )
    .await;
    assert_eq!(ids_of(&store, "exc:platypus").await, [c.as_str()]);
    assert_eq!(ids_of(&store, "status:failed platypus").await, [c.as_str()]);
    let entry = engine::result::encode_exc_string("KeyError: 'Narwhal'");
    let _: () = redis::cmd("XADD")
        .arg(keys::results(&c))
        .arg("*")
        .arg("type")
        .arg("2")
        .arg("exc_string")
        .arg(entry)
        .query_async(&mut store.conn())
        .await
        .unwrap();
    assert_eq!(ids_of(&store, "exc:narwhal").await, [c.as_str()]);
    assert!(ids_of(&store, "exc:platypus").await.is_empty());
    // Meta.
    let _: () = store
        .conn()
        .hset(keys::job(&b), "meta", r#"{"tenant": "Axolotl"}"#)
        .await
        .unwrap();
    assert_eq!(ids_of(&store, "axolotl").await, [b.as_str()]);

    // An existing id is an exact hit; an id-shaped word that is no job is plain text.
    let page = search(&store, &a, None, 10).await.unwrap();
    assert_eq!(page.exact.as_deref(), Some(a.as_str()));
    assert_eq!(page.items[0].id, a);
    assert!(search(&store, "no-such-job-id", None, 10)
        .await
        .unwrap()
        .exact
        .is_none());
}

#[tokio::test]
async fn cursor_pages_return_every_match_exactly_once() {
    let store = support::store().await;
    let mut want = HashSet::new();
    for i in 0..420u32 {
        let arg = if i.is_multiple_of(3) {
            "match-me"
        } else {
            "other"
        };
        let id = enqueue(
            &store,
            NewJob::new(if i.is_multiple_of(2) { "ca" } else { "cb" }, "m.f")
                .args(vec![json!(arg), json!(i)]),
        )
        .await
        .unwrap();
        if i.is_multiple_of(3) {
            want.insert(id);
        }
    }
    for (q, total) in [("match-me", 420), ("status:queued match-me", 420)] {
        for limit in [1, 7, 100] {
            let (ids, scanned) = all_pages(&store, q, limit).await;
            let set: HashSet<String> = ids.iter().cloned().collect();
            assert_eq!(set.len(), ids.len(), "{q} limit {limit}: a match twice");
            assert_eq!(set, want, "{q} limit {limit}");
            assert_eq!(scanned, total, "{q} limit {limit}");
        }
    }
    let (ids, scanned) = all_pages(&store, "queue:cb match-me", 5).await;
    assert_eq!(scanned, 210);
    assert_eq!(ids.len(), 70);

    // Tampered, foreign and junk cursors are refused as invalid input.
    let page = search(&store, "match-me", None, 3).await.unwrap();
    let c = page.cursor.unwrap();
    for (q, bad) in [
        ("other", c.clone()),
        ("match-me", format!("{c}x")),
        ("match-me", c.replacen(|_: char| true, "Z", 1)),
        ("match-me", "%%%".into()),
    ] {
        let e = search(&store, q, Some(&bad), 3).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{bad}");
    }
    for (q, limit) in [
        ("", 10),
        ("\"open", 10),
        ("status:bogus", 10),
        ("x", 0),
        ("x", 101),
    ] {
        let e = search(&store, q, None, limit).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{q:?} {limit}");
    }
    let huge = "a".repeat(engine::limits::MAX_SEARCH_QUERY_LEN + 1);
    assert!(search(&store, &huge, None, 10).await.is_err());
    // Wildcards are literal: bounded, and match nothing here.
    assert!(ids_of(&store, "*** ??? %").await.is_empty());
}

#[tokio::test]
async fn bulk_actions_need_the_exact_count_and_act_only_on_matches() {
    let store = support::store().await;
    let mut hits = Vec::new();
    let mut misses = Vec::new();
    for i in 0..5 {
        let id = enqueue(&store, NewJob::new("bq", "m.f").args(vec![json!(i)]))
            .await
            .unwrap();
        let tb = if i < 3 {
            "ValueError: Boomerang came back"
        } else {
            "KeyError: other"
        };
        fail(&store, "bq", &id, tb).await;
        if i < 3 {
            hits.push(id)
        } else {
            misses.push(id)
        }
    }
    let q = "exc:boomerang";
    assert_eq!(
        engine::actions::search::live_count(&store, q)
            .await
            .unwrap(),
        3
    );
    let wrong = perform(
        &store,
        Action::RequeueSearch {
            query: q.into(),
            expected: Some(4),
        },
        "t",
    )
    .await
    .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Conflict);
    let failed: u64 = store.conn().zcard(keys::failed("bq")).await.unwrap();
    assert_eq!(failed, 5, "nothing changed");

    let out = perform(
        &store,
        Action::RequeueSearch {
            query: q.into(),
            expected: Some(3),
        },
        "t",
    )
    .await
    .unwrap();
    assert_eq!(out, Outcome::Moved { count: 3 });
    let queued: Vec<String> = store.conn().lrange(keys::queue("bq"), 0, -1).await.unwrap();
    assert_eq!(sorted(queued), sorted(hits.clone()));
    let still: Vec<String> = store
        .conn()
        .zrange(keys::failed("bq"), 0, -1)
        .await
        .unwrap();
    assert_eq!(sorted(still), sorted(misses.clone()));
    let audit = engine::audit::page(&store, 0, 1).await.unwrap().items;
    assert_eq!(
        (audit[0].action.as_str(), audit[0].count),
        ("requeue-search", 3)
    );

    // Cancel the requeued ones, delete the others.
    let out = perform(
        &store,
        Action::CancelSearch {
            query: "queue:bq status:queued".into(),
            expected: Some(3),
        },
        "t",
    )
    .await
    .unwrap();
    assert_eq!(out, Outcome::Moved { count: 3 });
    let out = perform(
        &store,
        Action::DeleteSearch {
            query: "exc:keyerror".into(),
            expected: Some(2),
        },
        "t",
    )
    .await
    .unwrap();
    assert_eq!(out, Outcome::Moved { count: 2 });
    for id in &misses {
        let n: u64 = store.conn().exists(keys::job(id)).await.unwrap();
        assert_eq!(n, 0);
    }
}
