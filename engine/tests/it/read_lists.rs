//! Job lists, queues, workers and the snapshot against hand-written state (wrong-typed keys,
//! vanished workers, stale heartbeats): windows, order, counts, and no writes.

use engine::codec::zlib;
use engine::model::JobList;
use engine::{keys, queue, registry, snapshot, workers};
use redis::AsyncCommands;

use crate::read::{digest, hset, PICKLE_ADD};
use crate::support;

#[tokio::test]
async fn registry_pages_window_and_order() {
    let store = support::store().await;
    let mut conn = store.conn();
    let data = zlib::deflate(PICKLE_ADD);
    for i in 0..7 {
        let id = format!("j{i}");
        hset(
            &store,
            &keys::job(&id),
            &[("data", &data), ("status", b"queued"), ("origin", b"q")],
        )
        .await;
        let _: () = conn.rpush(keys::queue("q"), &id).await.unwrap();
        let _: () = conn.zadd(keys::finished("q"), &id, 1000 + i).await.unwrap();
        let _: () = conn
            .zadd(keys::scheduled("q"), &id, 1000 + i)
            .await
            .unwrap();
        let _: () = conn
            .zadd(keys::started("q"), format!("{id}:exec{i}"), 1000 + i)
            .await
            .unwrap();
    }
    let _: () = conn
        .sadd(
            keys::QUEUES,
            &[keys::queue("q"), keys::queue("a"), "junk".to_string()],
        )
        .await
        .unwrap();
    let ids = |p: &engine::model::Page<engine::model::JobSummary>| {
        p.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>()
    };

    let p = registry::page(&store, "q", JobList::Queued, 2, 3)
        .await
        .unwrap();
    assert_eq!(
        (p.total, ids(&p)),
        (7, vec!["j2".into(), "j3".into(), "j4".into()])
    );
    let p = registry::page(&store, "q", JobList::Finished, 0, 2)
        .await
        .unwrap();
    assert_eq!(
        ids(&p),
        vec!["j6".to_string(), "j5".into()],
        "registries newest first"
    );
    assert_eq!(p.items[0].score, Some(1006.0));
    let p = registry::page(&store, "q", JobList::Scheduled, 0, 2)
        .await
        .unwrap();
    assert_eq!(
        ids(&p),
        vec!["j0".to_string(), "j1".into()],
        "scheduled soonest first"
    );
    let p = registry::page(&store, "q", JobList::Started, 0, 1)
        .await
        .unwrap();
    assert_eq!(
        ids(&p),
        vec!["j6".to_string()],
        "started members are <id>:<execution>"
    );
    assert!(p.items[0].exists);
    let p = registry::page(&store, "q", JobList::Canceled, 0, 10)
        .await
        .unwrap();
    assert_eq!((p.total, p.items.len()), (0, 0));
    let p = registry::page(&store, "q", JobList::Queued, 0, 0)
        .await
        .unwrap();
    assert_eq!((p.total, p.items.len()), (7, 0));
    let p = registry::page(&store, "q", JobList::Queued, 0, 100_000)
        .await
        .unwrap();
    assert_eq!(p.limit, registry::MAX_PAGE);

    assert_eq!(
        queue::list(&store).await.unwrap(),
        vec!["a".to_string(), "q".into()]
    );
    assert!(queue::exists(&store, "q").await.unwrap());
    assert!(!queue::exists(&store, "zzz").await.unwrap());
}

#[tokio::test]
async fn failed_all_merges_queues_newest_first() {
    let store = support::store().await;
    let mut conn = store.conn();
    for (q, id, score) in [
        ("a", "a1", 10),
        ("a", "a2", 30),
        ("b", "b1", 20),
        ("b", "b2", 40),
        ("c", "c1", 5),
    ] {
        let _: () = conn.sadd(keys::QUEUES, keys::queue(q)).await.unwrap();
        let _: () = conn.zadd(keys::failed(q), id, score).await.unwrap();
    }
    let p = registry::failed_all(&store, 1, 3).await.unwrap();
    let ids: Vec<_> = p.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!((p.total, ids), (5, vec!["a2", "b1", "a1"]));
}

#[tokio::test]
async fn workers_and_snapshot() {
    let store = support::store().await;
    let mut conn = store.conn();
    let now = engine::time::now();
    let ts = |ago: f64| engine::time::format_rq(now - ago);
    let (fresh, old) = (ts(5.0), ts(10_000.0));
    hset(
        &store,
        &keys::worker("busy"),
        &[
            ("state", b"busy"),
            ("last_heartbeat", fresh.as_bytes()),
            ("queues", b"q,r"),
            ("current_job", b"j0"),
            ("pid", b"42"),
            ("successful_job_count", b"3"),
            ("total_working_time", b"1.5"),
        ],
    )
    .await;
    hset(
        &store,
        &keys::worker("ancient"),
        &[("state", b"idle"), ("last_heartbeat", old.as_bytes())],
    )
    .await;
    hset(
        &store,
        &keys::worker("host.1.abcd.0"),
        &[
            ("state", b"idle"),
            ("last_heartbeat", fresh.as_bytes()),
            ("taskmill_pool", b"host.1.abcd"),
        ],
    )
    .await;
    hset(&store, &keys::pool("host.1.abcd"), &[("concurrency", b"4")]).await;
    for w in ["busy", "ancient", "host.1.abcd.0", "vanished"] {
        let _: () = conn.sadd(keys::WORKERS, keys::worker(w)).await.unwrap();
    }
    hset(
        &store,
        &keys::job("j0"),
        &[
            ("enqueued_at", ts(60.0).as_bytes()),
            ("data", &zlib::deflate(PICKLE_ADD)),
        ],
    )
    .await;
    let _: () = conn.rpush(keys::queue("q"), "j0").await.unwrap();
    let _: () = conn.zadd(keys::failed("q"), "f", 1).await.unwrap();
    let _: () = conn.zadd(keys::started("r"), "s:x", 1).await.unwrap();
    let _: () = conn
        .sadd(keys::QUEUES, &[keys::queue("q"), keys::queue("r")])
        .await
        .unwrap();
    let _: () = conn.set(keys::SUSPENDED, "1").await.unwrap();
    let _: () = conn
        .set(keys::scheduler_lock("q"), "sched-1")
        .await
        .unwrap();
    let _: () = conn.set(keys::queue("r"), "wrong type").await.unwrap();
    let before = digest(&store).await;

    let ws = workers::list(&store).await.unwrap();
    let names: Vec<_> = ws.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["ancient", "busy", "host.1.abcd.0", "vanished"]);
    let w = |n: &str| ws.iter().find(|w| w.name == n).unwrap();
    assert!(!w("busy").stale && w("ancient").stale && w("vanished").stale);
    assert_eq!(w("busy").queues, ["q", "r"]);
    assert_eq!(
        (
            w("busy").pid,
            w("busy").successful_job_count,
            w("busy").total_working_time
        ),
        (Some(42), 3, 1.5)
    );
    assert_eq!(w("vanished").state, "?");
    assert_eq!(
        w("host.1.abcd.0").pool.as_ref().map(|p| p.concurrency),
        Some(4)
    );
    assert!(workers::get(&store, "busy").await.unwrap().is_some());
    assert!(
        workers::get(&store, "vanished")
            .await
            .unwrap()
            .unwrap()
            .stale
    );
    assert!(workers::get(&store, "never").await.unwrap().is_none());

    let s = snapshot::take(&store).await.unwrap();
    assert!(s.suspended);
    assert_eq!(
        s.scheduler_locks,
        vec![("q".to_string(), "sched-1".to_string())]
    );
    let q = &s.queues[0];
    assert_eq!((q.name.as_str(), q.queued, q.failed), ("q", 1, 1));
    let age = q.oldest_queued_age.unwrap();
    assert!((55.0..120.0).contains(&age), "{age}");
    assert_eq!(
        (s.queues[1].queued, s.queues[1].started),
        (0, 1),
        "a wrong-typed queue key counts 0"
    );
    assert_eq!(
        (s.totals.queued, s.totals.failed, s.totals.started),
        (1, 1, 1)
    );
    assert_eq!(
        (
            s.totals.workers_busy,
            s.totals.workers_idle,
            s.totals.workers_stale
        ),
        (1, 1, 2)
    );
    assert!(
        s.redis.version.starts_with('7')
            && s.redis.used_memory > 0
            && s.redis.connected_clients > 0
    );
    assert_eq!(digest(&store).await, before, "reads must not write");
}

#[tokio::test]
async fn empty_database_reads_cleanly() {
    let store = support::store().await;
    let s = snapshot::take(&store).await.unwrap();
    assert!(s.queues.is_empty() && s.workers.is_empty() && !s.suspended);
    assert!(registry::failed_all(&store, 0, 25)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(workers::list(&store).await.unwrap().is_empty());
    let _: () = store.conn().set(keys::QUEUES, "wrong type").await.unwrap();
    assert!(queue::list(&store).await.unwrap().is_empty());
    assert!(snapshot::take(&store).await.unwrap().queues.is_empty());
}
