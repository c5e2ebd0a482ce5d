//! The read side against hand-written Redis state, including corrupt and wrong-typed keys:
//! every read returns markers instead of errors, and no read changes a single byte.

use engine::codec::zlib;
use engine::model::{Codec, Decoded, JobList, JobStatus, PyValue, ResultType};
use engine::{job, keys, registry, result, Store};
use redis::AsyncCommands;
use serde_json::json;

use crate::support;

/// `(key, DUMP bytes, PTTL > 0)` for every key: reads must leave this unchanged.
pub async fn digest(store: &Store) -> Vec<(String, Vec<u8>, bool)> {
    let mut conn = store.conn();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    let mut out = Vec::new();
    for k in keys {
        let dump: Vec<u8> = redis::cmd("DUMP")
            .arg(&k)
            .query_async(&mut conn)
            .await
            .unwrap();
        let ttl: i64 = conn.pttl(&k).await.unwrap();
        out.push((k, dump, ttl > 0));
    }
    out
}

pub const PICKLE_ADD: &[u8] = b"\x80\x05\x95\x24\x00\x00\x00\x00\x00\x00\x00\x28\x8c\x14rq_fixture_tasks.add\x94\x4e\x4b\x03\x4b\x04\x86\x94\x7d\x94\x74\x94\x2e";

pub async fn hset(store: &Store, key: &str, fields: &[(&str, &[u8])]) {
    let _: () = store.conn().hset_multiple(key, fields).await.unwrap();
}

/// A complete, healthy failed job written the way RQ 2.12 leaves it.
async fn write_failed_job(store: &Store) {
    let data = zlib::deflate(PICKLE_ADD);
    let meta = br#"{"owner": "me"}"#;
    hset(
        store,
        &keys::job("good"),
        &[
            ("created_at", b"2026-11-21T11:15:33.100000Z"),
            ("data", &data),
            ("description", b"rq_fixture_tasks.add(3, 4)"),
            ("status", b"failed"),
            ("origin", b"default"),
            ("enqueued_at", b"2026-11-21T11:15:33.200000Z"),
            ("started_at", b"2026-11-21T11:15:33.300000Z"),
            ("ended_at", b"2026-11-21T11:15:33.400000Z"),
            ("last_heartbeat", b"2026-11-21T11:15:33.300000Z"),
            ("worker_name", b"w1"),
            ("group_id", b""),
            ("timeout", b"180"),
            ("failure_ttl", b"600"),
            ("retries_left", b"1"),
            ("retry_intervals", b"[600, 1200]"),
            ("dependency_ids", b"[\"parent\"]"),
            ("meta", meta),
        ],
    )
    .await;
    let mut conn = store.conn();
    let _: () = conn
        .sadd(keys::dependents("good"), &["child-b", "child-a"])
        .await
        .unwrap();
    let _: () = conn
        .sadd(keys::dependencies("good"), "parent")
        .await
        .unwrap();
    let _: () = conn
        .zadd(keys::failed("default"), "good", 1_900_000_000)
        .await
        .unwrap();
    let _: () = conn
        .zadd(keys::executions("good"), "x1", 1_900_000_000)
        .await
        .unwrap();
    hset(
        store,
        &keys::execution("good", "x1"),
        &[
            ("id", b"x1"),
            ("worker_name", b"w1"),
            ("created_at", b"1795259733.3"),
        ],
    )
    .await;
    for (t, rv, exc) in [
        (
            "1",
            Some(result::encode_return_value(&json!({"n": 1}))),
            None,
        ),
        (
            "2",
            None,
            Some(result::encode_exc_string(
                "Traceback (most recent call last):\n  File \"x\"\nValueError: boom\n",
            )),
        ),
    ] {
        let mut fields = vec![("type", t.to_string()), ("worker_name", "w1".to_string())];
        fields.extend(rv.map(|v| ("return_value", v)));
        fields.extend(exc.map(|v| ("exc_string", v)));
        let _: String = conn
            .xadd(keys::results("good"), "*", &fields)
            .await
            .unwrap();
    }
    let _: () = conn.expire(keys::job("good"), 600).await.unwrap();
}

#[tokio::test]
async fn fetch_reads_every_part_of_a_job() {
    let store = support::store().await;
    write_failed_job(&store).await;
    let before = digest(&store).await;
    let d = job::fetch(&store, "good")
        .await
        .unwrap()
        .expect("job exists");
    assert_eq!(digest(&store).await, before, "fetch must not write");

    let s = &d.summary;
    assert!(s.exists);
    assert_eq!(s.status, Some(JobStatus::Failed));
    assert_eq!(s.origin.as_deref(), Some("default"));
    assert_eq!(s.func_name.as_deref(), Some("rq_fixture_tasks.add"));
    assert_eq!(s.created_at, Some(1795259733.1));
    assert_eq!(s.exc_summary.as_deref(), Some("ValueError: boom"));
    assert_eq!(s.problem, None);
    let call = d.call.as_ref().expect("data decodes");
    assert_eq!(
        (call.codec, call.args.clone()),
        (Codec::Pickle, vec![PyValue::Int(3), PyValue::Int(4)])
    );
    match d.meta.as_ref().unwrap() {
        Decoded::Ok { codec, value, .. } => assert_eq!(
            (*codec, value.repr()),
            (Codec::Json, "{'owner': 'me'}".into())
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        (d.timeout, d.failure_ttl, d.retries_left),
        (Some(180), Some(600), Some(1))
    );
    assert_eq!(d.retry_intervals, vec![600, 1200]);
    assert_eq!(d.dependency_ids, vec!["parent".to_string()]);
    assert_eq!(
        d.dependents,
        vec!["child-a".to_string(), "child-b".to_string()]
    );
    assert_eq!(d.group_id, None, "empty string means unset");
    assert_eq!(d.results.len(), 2);
    assert_eq!(d.results[0].kind, ResultType::Failed, "newest first");
    assert_eq!(d.results[1].kind, ResultType::Successful);
    assert_eq!(d.executions.len(), 1);
    assert_eq!(d.executions[0].worker_name.as_deref(), Some("w1"));
    assert!(d.key_ttl > 0 && d.key_ttl <= 600);
    assert!(d.raw_fields.iter().any(|(k, _)| k == "data"));

    assert!(job::fetch(&store, "nope").await.unwrap().is_none());
    assert!(
        job::fetch(&store, "bad:id").await.is_err(),
        "invalid ids are an error (400)"
    );
}

#[tokio::test]
async fn corrupt_jobs_read_as_markers() {
    let store = support::store().await;
    let mut conn = store.conn();
    hset(
        &store,
        &keys::job("nodata"),
        &[("status", b"queued"), ("origin", b"q")],
    )
    .await;
    hset(
        &store,
        &keys::job("badzlib"),
        &[("data", b"\x78\x9c\x01\x02garbage"), ("status", b"queued")],
    )
    .await;
    hset(
        &store,
        &keys::job("badpickle"),
        &[
            (
                "data",
                b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\xff\x8d\xff\xff",
            ),
            ("status", b"queued"),
        ],
    )
    .await;
    hset(
        &store,
        &keys::job("notcall"),
        &[("data", &zlib::deflate(b"[1, 2, 3]"))],
    )
    .await;
    hset(
        &store,
        &keys::job("badtimes"),
        &[
            ("data", &zlib::deflate(PICKLE_ADD)),
            ("created_at", b"yesterday"),
            ("enqueued_at", b"2026-11-21 11:15:03+00:00"),
            ("started_at", b""),
            ("last_heartbeat", b"\xff\xfe"),
            ("description", b"\xffnot utf8"),
            ("timeout", b"1h"),
            ("meta", b"\x80\x05garbage"),
            ("exc_info", b"\x78\x9cbroken"),
        ],
    )
    .await;
    let _: () = conn
        .set(keys::job("x"), "a string, not a hash")
        .await
        .unwrap();
    hset(
        &store,
        &keys::job("badresults"),
        &[("data", &zlib::deflate(PICKLE_ADD))],
    )
    .await;
    let _: () = conn
        .set(keys::results("badresults"), "wrong type")
        .await
        .unwrap();
    hset(
        &store,
        &keys::job("garbage-entries"),
        &[("data", &zlib::deflate(PICKLE_ADD))],
    )
    .await;
    let _: String = conn
        .xadd(
            keys::results("garbage-entries"),
            "*",
            &[
                ("type", "x"),
                ("return_value", "%%%"),
                ("exc_string", "bm90IHpsaWI="),
            ],
        )
        .await
        .unwrap();
    let all = [
        "nodata",
        "badzlib",
        "badpickle",
        "notcall",
        "badtimes",
        "x",
        "badresults",
        "garbage-entries",
        "gone",
    ];
    for id in all {
        let _: () = conn.rpush(keys::queue("q"), id).await.unwrap();
        let _: () = conn
            .zadd(keys::failed("q"), id, 1_900_000_000)
            .await
            .unwrap();
    }
    let before = digest(&store).await;

    let undecodable =
        |d: &engine::model::JobDetail| matches!(&d.call, Err(Decoded::Undecodable { .. }));
    let d = job::fetch(&store, "nodata").await.unwrap().unwrap();
    assert!(undecodable(&d));
    assert!(d.summary.problem.as_deref().unwrap().contains("no data"));
    for id in ["badzlib", "badpickle", "notcall"] {
        let d = job::fetch(&store, id).await.unwrap().unwrap();
        match &d.call {
            Err(Decoded::Undecodable { reason, raw, len }) => {
                assert!(
                    !reason.is_empty() && *len > 0 && !raw.is_empty(),
                    "{id}: {reason}"
                );
            }
            other => panic!("{id}: {other:?}"),
        }
    }
    let d = job::fetch(&store, "badtimes").await.unwrap().unwrap();
    assert!(d.call.is_ok());
    assert_eq!(
        (
            d.summary.created_at,
            d.summary.enqueued_at,
            d.summary.started_at
        ),
        (None, None, None)
    );
    let problem = d.summary.problem.clone().unwrap();
    assert!(
        problem.contains("created_at")
            && problem.contains("enqueued_at")
            && problem.contains("last_heartbeat"),
        "{problem}"
    );
    assert_eq!(d.timeout, None);
    assert!(matches!(d.meta, Some(Decoded::Undecodable { .. })));
    assert_eq!(
        d.legacy_exc_info.as_deref(),
        Some("\u{78}\u{fffd}broken"),
        "bad zlib shows raw bytes"
    );
    let d = job::fetch(&store, "x")
        .await
        .unwrap()
        .expect("wrong-typed key still reads");
    assert!(d.summary.exists && undecodable(&d));
    assert!(d.summary.problem.as_deref().unwrap().contains("not a hash"));
    let d = job::fetch(&store, "badresults").await.unwrap().unwrap();
    assert!(d.results.is_empty());
    let d = job::fetch(&store, "garbage-entries")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.results[0].kind, ResultType::Unknown);
    assert!(matches!(
        d.results[0].return_value,
        Some(Decoded::Undecodable { .. })
    ));
    assert_eq!(d.results[0].exc_string.as_deref(), Some("not zlib"));

    for list in [JobList::Queued, JobList::Failed] {
        let page = registry::page(&store, "q", list, 0, 100).await.unwrap();
        assert_eq!(page.total, all.len() as u64);
        let ids: Vec<_> = page.items.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), all.len());
        let row = |id: &str| page.items.iter().find(|s| s.id == id).unwrap();
        assert!(!row("gone").exists);
        assert!(row("x").exists && row("x").problem.as_deref().unwrap().contains("not a hash"));
        assert_eq!(
            row("badtimes").func_name.as_deref(),
            Some("rq_fixture_tasks.add")
        );
        assert!(row("badtimes").problem.is_some());
        assert!(row("nodata")
            .problem
            .as_deref()
            .unwrap()
            .contains("no data"));
    }
    assert_eq!(digest(&store).await, before, "reads must not write");
}
