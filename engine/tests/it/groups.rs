//! Failure groups over failures made by the real Python RQ 2.12 (`tests/interop/groups_fill.py`):
//! one group per error and call site across queues and serializers, an index that matches a
//! brute-force recount after Python requeues, deletes and expires jobs behind its back, and the
//! group actions (confirmed count, atomic chunks, audited) with a Python worker re-running a
//! requeued group.

use std::collections::BTreeMap;

use engine::actions::{perform, Action, Outcome};
use engine::groups::{index, read};
use engine::{keys, ErrorKind, Store};
use serde_json::Value;

use crate::support::{self, python, run_python};

fn py(url: &str, args: &[&str]) -> Option<String> {
    let py = python()?;
    let mut all = vec!["groups_fill.py", url];
    all.extend(args);
    Some(run_python(&py, &all))
}

/// Fingerprint → count, decoding every failed registry whole (what the index must equal).
async fn brute_force(store: &Store) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for q in engine::queue::list(store).await.unwrap() {
        let ids: Vec<String> = redis::cmd("ZRANGE")
            .arg(keys::failed(&q))
            .arg(0)
            .arg(-1)
            .query_async(&mut store.conn())
            .await
            .unwrap();
        for e in index::read_entries(store, &ids).await.unwrap() {
            *out.entry(e.fingerprint).or_default() += 1;
        }
    }
    out
}

async fn indexed(store: &Store) -> BTreeMap<String, u64> {
    let g = read::groups(store).await.unwrap();
    g.items
        .into_iter()
        .map(|g| (g.fingerprint, g.count))
        .collect()
}

fn ids(v: &Value, k: &str) -> Vec<String> {
    v[k].as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn python_failures_group_and_follow_changes_behind_the_back() {
    let url = support::fresh_url();
    let Some(out) = py(&url, &["fill"]) else {
        return;
    };
    let made: Value = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    let store = Store::connect(&url).await.unwrap();
    let before = engine::time::now();
    let p = index::catch_up(&store).await.unwrap();
    assert_eq!(p.indexed, 14);
    assert!(p.as_of.unwrap() >= before - 1.0);

    let groups = read::groups(&store).await.unwrap();
    let counts: Vec<u64> = groups.items.iter().map(|g| g.count).collect();
    // charge ×8 (pickle on ga, JSON on gb-json: one group), refund ×4 (same text, another
    // call site), lookup ×2 (KeyError).
    assert_eq!(counts, [8, 4, 2], "{groups:#?}");
    let charge = &groups.items[0];
    assert_eq!(charge.exc_type, "ValueError");
    assert!(
        charge.example.starts_with("ValueError: order ") && charge.example.ends_with("' not found")
    );
    assert_eq!(charge.queues, ["ga", "gb-json"]);
    assert_eq!(charge.functions, ["grouptasks.charge"]);
    assert!(charge.first_seen.unwrap() <= charge.last_seen.unwrap());
    assert_eq!(groups.items[2].exc_type, "KeyError");
    assert_eq!(indexed(&store).await, brute_force(&store).await);

    // A second pass decodes nothing.
    assert_eq!(index::catch_up(&store).await.unwrap().indexed, 0);

    // Behind the console's back: Python requeues a charge (and its worker fails it again: a
    // new failure with a new score), deletes a refund, lets a lookup expire.
    let (charge_ids, refund_ids, lookup_ids) = (
        ids(&made, "charge"),
        ids(&made, "refund"),
        ids(&made, "lookup"),
    );
    py(&url, &["requeue", "ga", &charge_ids[0]]);
    py(&url, &["work", "ga"]);
    py(&url, &["requeue", "ga", &charge_ids[1]]);
    py(&url, &["delete", &refund_ids[0]]);
    py(&url, &["expire", "gb-json", &lookup_ids[0]]);
    let p = index::catch_up(&store).await.unwrap();
    assert_eq!(p.indexed, 1, "only the re-failed charge is decoded again");
    assert_eq!(indexed(&store).await, brute_force(&store).await);
    let counts: Vec<u64> = read::groups(&store)
        .await
        .unwrap()
        .items
        .iter()
        .map(|g| g.count)
        .collect();
    assert_eq!(counts, [7, 3, 1]);

    // A group page lists its jobs with the failed list's columns.
    let fp = read::groups(&store).await.unwrap().items[0]
        .fingerprint
        .clone();
    let page = read::group_page(&store, &fp, 0, 5).await.unwrap();
    assert_eq!((page.total, page.items.len()), (7, 5));
    assert!(page.items.iter().all(|j| j
        .exc_summary
        .as_deref()
        .unwrap_or("")
        .starts_with("ValueError")));
    let page2 = read::group_page(&store, &fp, 5, 5).await.unwrap();
    assert_eq!(page2.items.len(), 2);

    // requeue-group: a stale count is a conflict and changes nothing; the exact one moves all.
    let stale = perform(
        &store,
        Action::RequeueGroup {
            fingerprint: fp.clone(),
            expected: Some(8),
        },
        "t",
    )
    .await;
    assert_eq!(stale.unwrap_err().kind(), ErrorKind::Conflict);
    let done = perform(
        &store,
        Action::RequeueGroup {
            fingerprint: fp.clone(),
            expected: Some(7),
        },
        "t",
    )
    .await
    .unwrap();
    assert_eq!(done, Outcome::Moved { count: 7 });
    assert!(
        read::group_info(&store, &fp).await.unwrap().is_none(),
        "left the index at once"
    );
    let audit = engine::audit::page(&store, 0, 1).await.unwrap();
    assert_eq!(audit.items[0].action, "requeue-group");
    assert_eq!(audit.items[0].target, format!("group {fp}"));
    assert_eq!(audit.items[0].count, 7);
    let st: Value = serde_json::from_str(
        py(&url, &["status", &charge_ids[2]])
            .unwrap()
            .trim()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(st["status"], "queued");
    // A Python worker re-runs them: they fail again, with a second result each.
    py(&url, &["work", "ga"]);
    py(&url, &["work", "gb-json"]);
    let st: Value = serde_json::from_str(
        py(&url, &["status", &charge_ids[2]])
            .unwrap()
            .trim()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (st["status"].as_str(), st["results"].as_u64()),
        (Some("failed"), Some(2))
    );
    index::catch_up(&store).await.unwrap();
    assert_eq!(indexed(&store).await, brute_force(&store).await);
    // The 7 again, plus the charge Python requeued earlier and the worker has now run.
    assert_eq!(
        read::group_info(&store, &fp).await.unwrap().unwrap().count,
        8
    );

    // delete-group, dry-run count first; an unknown or invalid group is not found / invalid.
    let refund_fp = read::groups(&store).await.unwrap().items[1]
        .fingerprint
        .clone();
    assert_eq!(
        engine::actions::group::live_count(&store, &refund_fp)
            .await
            .unwrap(),
        3
    );
    let done = perform(
        &store,
        Action::DeleteGroup {
            fingerprint: refund_fp.clone(),
            expected: Some(3),
        },
        "t",
    )
    .await
    .unwrap();
    assert_eq!(done, Outcome::Moved { count: 3 });
    assert!(!redis::cmd("EXISTS")
        .arg(keys::job(&refund_ids[1]))
        .query_async::<bool>(&mut store.conn())
        .await
        .unwrap());
    let missing = perform(
        &store,
        Action::DeleteGroup {
            fingerprint: refund_fp,
            expected: None,
        },
        "t",
    )
    .await;
    assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
    let bad = perform(
        &store,
        Action::DeleteGroup {
            fingerprint: "*".into(),
            expected: None,
        },
        "t",
    )
    .await;
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::Invalid);
    index::catch_up(&store).await.unwrap();
    assert_eq!(indexed(&store).await, brute_force(&store).await);
}

/// Hand-written failures: Taskmill's text, a job hash gone, exc_info that is not zlib. They fall
/// into groups or the one "undecodable" group; nothing fails.
#[tokio::test]
async fn taskmill_and_undecodable_failures() {
    let store = support::store().await;
    let mut c = store.conn();
    let _: () = redis::cmd("SADD")
        .arg(keys::QUEUES)
        .arg(keys::queue("q"))
        .query_async(&mut c)
        .await
        .unwrap();
    let tb = "Traceback (most recent call last):\n  File \"taskmill\", in perform\n\
              rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (30 seconds)\n";
    for (i, exc) in [
        engine::result::encode_exc_string(tb),
        engine::result::encode_exc_string(&tb.replace("30", "7")),
    ]
    .iter()
    .enumerate()
    {
        let id = format!("tm{i}");
        let _: () = redis::cmd("HSET")
            .arg(keys::job(&id))
            .arg("origin")
            .arg("q")
            .arg("data")
            .arg("x")
            .query_async(&mut c)
            .await
            .unwrap();
        let _: String = redis::cmd("XADD")
            .arg(keys::results(&id))
            .arg("*")
            .arg("type")
            .arg("2")
            .arg("exc_string")
            .arg(exc)
            .query_async(&mut c)
            .await
            .unwrap();
        let _: () = redis::cmd("ZADD")
            .arg(keys::failed("q"))
            .arg(100 + i)
            .arg(&id)
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let _: () = redis::cmd("HSET")
        .arg(keys::job("bad"))
        .arg("exc_info")
        .arg("\u{0}not zlib\u{1}")
        .arg("data")
        .arg("x")
        .query_async(&mut c)
        .await
        .unwrap();
    for id in ["bad", "gone"] {
        let _: () = redis::cmd("ZADD")
            .arg(keys::failed("q"))
            .arg(5)
            .arg(id)
            .query_async(&mut c)
            .await
            .unwrap();
    }
    index::catch_up(&store).await.unwrap();
    let g = read::groups(&store).await.unwrap();
    let by: BTreeMap<String, (u64, String)> = g
        .items
        .iter()
        .map(|g| (g.exc_type.clone(), (g.count, g.fingerprint.clone())))
        .collect();
    assert_eq!(by["rq.timeouts.JobTimeoutException"].0, 2);
    assert_eq!(by[""], (2, "undecodable".to_string()), "{g:#?}");
    assert_eq!(indexed(&store).await, brute_force(&store).await);
    let page = read::group_page(&store, "undecodable", 0, 25)
        .await
        .unwrap();
    assert_eq!(page.total, 2);
}

/// Every group is listed (not only the first few): ten kinds, ten groups, counts summing up.
#[tokio::test]
async fn ten_kinds_ten_groups() {
    let store = support::store().await;
    let mut c = store.conn();
    let _: () = redis::cmd("SADD")
        .arg(keys::QUEUES)
        .arg(keys::queue("q"))
        .query_async(&mut c)
        .await
        .unwrap();
    for kind in 0..10 {
        for n in 0..3 {
            let id = format!("k{kind}n{n}");
            let tb = format!(
                "Traceback (most recent call last):\n  File \"/app/t.py\", line 1, in f{kind}\nValueError: bad {n}\n"
            );
            let _: () = redis::cmd("HSET")
                .arg(keys::job(&id))
                .arg("origin")
                .arg("q")
                .arg("data")
                .arg("x")
                .arg("exc_info")
                .arg(engine::codec::zlib::deflate(tb.as_bytes()))
                .query_async(&mut c)
                .await
                .unwrap();
            let _: () = redis::cmd("ZADD")
                .arg(keys::failed("q"))
                .arg(1e12)
                .arg(&id)
                .query_async(&mut c)
                .await
                .unwrap();
        }
    }
    index::catch_up(&store).await.unwrap();
    let g = read::groups(&store).await.unwrap();
    assert_eq!(g.items.len(), 10, "{g:#?}");
    assert!(g.items.iter().all(|g| g.count == 3 && g.last_day == 3));
}

/// Registry members that are not job ids (any bytes can be written there: invalid UTF-8,
/// markup, spaces) are not indexed and never stop a pass.
#[tokio::test]
async fn junk_registry_members_do_not_stop_the_index() {
    let store = support::store().await;
    let mut c = store.conn();
    let _: () = redis::cmd("SADD")
        .arg(keys::QUEUES)
        .arg(keys::queue("jq"))
        .query_async(&mut c)
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(keys::job("real"))
        .arg("exc_info")
        .arg("\u{0}not zlib")
        .query_async(&mut c)
        .await
        .unwrap();
    let junk: [&[u8]; 3] = [b"\xff\xfe\x00", b"<img src=x onerror=1>", b"a b"];
    for (i, member) in junk.iter().enumerate() {
        let _: () = redis::cmd("ZADD")
            .arg(keys::failed("jq"))
            .arg(i)
            .arg(*member)
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let _: () = redis::cmd("ZADD")
        .arg(keys::failed("jq"))
        .arg(9)
        .arg("real")
        .query_async(&mut c)
        .await
        .unwrap();
    let p = index::catch_up(&store)
        .await
        .expect("a pass over junk members");
    assert!(p.pass_done, "{p:?}");
    let total: u64 = indexed(&store).await.values().sum();
    assert_eq!(total, 1, "only the real job is grouped");
}
