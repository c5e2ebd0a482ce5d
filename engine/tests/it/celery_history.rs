//! Celery through the same code as RQ, with a real `celery worker -E`: a failed task lands in a
//! failure group (fingerprinted like RQ's failures; retry-all with the confirmed count), search
//! finds a task by a string inside its kwargs, and the history counts successes per queue
//! (`celery:<queue>`) and per task name.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::actions::{Action, Outcome};
use engine::celery::{groups, history, perform, search, tasks, Celery};
use engine::model::{StatsMetric, StatsRange};

use super::celery::{celery_python, handle};
use super::celery_workers::{online, send, wait_for, Worker};
use crate::support::fresh_url;

async fn state_of(c: &Celery, id: &str) -> Option<String> {
    tasks::get(c, id).await.unwrap().map(|t| t.state)
}

/// Polls `f` until it is true (history and groups follow the record by a few milliseconds).
async fn eventually<F, Fut>(what: &str, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_search_and_history_cover_celery() {
    let Some(py) = celery_python() else { return };
    let url = fresh_url();
    let c = Arc::new(handle(&url));
    let audit = engine::Store::connect(&url).await.unwrap();
    let events = tokio::spawn(engine::celery::events::run(c.clone()));
    wait_for("subscription", 10, || c.event_status().connected).await;
    let _w = Worker::start(&py, &url, "h1@test", "hq");
    wait_for("h1 online", 60, || online(&c, "h1@test")).await;
    // Its consumed queue (events carry none): what the console's inspect refresh learns.
    engine::celery::events::inspect_into_state(&c, &["h1@test".to_string()])
        .await
        .unwrap();

    send(
        &py,
        &url,
        "add.apply_async(kwargs={'x': 'order-NEEDLE-4242 ', 'y': 'paid'}, queue='hq', task_id='ok-1')\n\
         add.apply_async((1, 2), queue='hq', task_id='ok-2')\n\
         fail.apply_async(kwargs={'msg': 'card 4242 declined'}, queue='hq', task_id='bad-1')\n\
         fail.apply_async(kwargs={'msg': 'card 77 declined'}, queue='hq', task_id='bad-2')",
    );
    for (id, want) in [
        ("ok-1", "SUCCESS"),
        ("ok-2", "SUCCESS"),
        ("bad-1", "FAILURE"),
        ("bad-2", "FAILURE"),
    ] {
        eventually(id, || async {
            state_of(&c, id).await.as_deref() == Some(want)
        })
        .await;
    }

    // Failure groups: both failures (numbers normalised) in one group, by RQ's fingerprint code.
    eventually("the group", || async {
        groups::groups(&c)
            .await
            .unwrap()
            .items
            .first()
            .is_some_and(|g| g.count == 2)
    })
    .await;
    let all = groups::groups(&c).await.unwrap();
    assert_eq!(all.items.len(), 1, "{all:?}");
    let g = &all.items[0];
    assert_eq!(
        (g.backend.as_str(), g.exc_type.as_str()),
        ("celery", "ValueError")
    );
    assert_eq!(g.queues, ["hq"]);
    assert_eq!(g.functions, ["t.fail"]);
    let tb = tasks::get(&c, "bad-1").await.unwrap().unwrap().traceback;
    let same = history::failure(tb.as_deref(), None).fingerprint;
    assert_eq!(g.fingerprint, same);
    assert_eq!(
        same,
        engine::groups::fingerprint::parse(tb.as_deref().unwrap())
            .unwrap()
            .fingerprint()
    );
    let page = groups::group_page(&c, &g.fingerprint, 0, 10).await.unwrap();
    let mut ids: Vec<&str> = page.items.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!((page.total, ids), (2, vec!["bad-1", "bad-2"]));

    // Search: a string inside one task's kwargs finds that task only; filters narrow.
    let found = search::search(&c, "needle-4242", None, 25).await.unwrap();
    let ids: Vec<&str> = found.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["ok-1"], "{found:?}");
    assert!(found.cursor.is_none() && found.scanned == 4, "{found:?}");
    let failed = search::search(&c, "name:t.fail state:failure \"card 77\"", None, 25)
        .await
        .unwrap();
    assert_eq!(failed.items.len(), 1);
    assert_eq!(failed.items[0].id, "bad-2");
    let rq_only = search::search(&c, "backend:rq needle-4242", None, 25)
        .await
        .unwrap();
    assert!(rq_only.items.is_empty());
    let exact = search::search(&c, "ok-2", None, 25).await.unwrap();
    assert_eq!(exact.exact.as_deref(), Some("ok-2"));
    // A page of one continues with a cursor to the next match.
    let one = search::search(&c, "name:t.add", None, 1).await.unwrap();
    let cur = one.cursor.clone().expect("more to come");
    let two = search::search(&c, "name:t.add", Some(&cur), 1)
        .await
        .unwrap();
    assert_ne!(one.items[0].id, two.items[0].id);

    // History: successes per queue and per task name, with runtimes for the percentiles.
    let store = history::history_store(&c);
    let now = engine::time::now() as i64;
    let finished = engine::stats::series(
        store,
        StatsMetric::Finished,
        Some("celery:hq"),
        StatsRange::Hour,
        now,
    )
    .await
    .unwrap();
    let total: f64 = finished.points.iter().filter_map(|p| p.1).sum();
    assert_eq!(total, 2.0, "{finished:?}");
    let failed = engine::stats::series(
        store,
        StatsMetric::Failed,
        Some("celery:hq"),
        StatsRange::Hour,
        now,
    )
    .await
    .unwrap();
    assert_eq!(failed.points.iter().filter_map(|p| p.1).sum::<f64>(), 2.0);
    let fns = engine::stats::functions(store, StatsRange::Hour, now)
        .await
        .unwrap();
    let add = fns.iter().find(|f| f.function == "t.add").expect("t.add");
    assert_eq!((add.count, add.failed), (2, 0));
    let fail = fns.iter().find(|f| f.function == "t.fail").expect("t.fail");
    assert_eq!((fail.count, fail.failed), (2, 2));

    // Retry all: refused with a stale count, then both re-published and out of the group.
    let fp = g.fingerprint.clone();
    let stale = perform::perform(
        &c,
        &audit,
        Action::CeleryRetryGroup {
            fingerprint: fp.clone(),
            expected: Some(3),
        },
        "test",
    )
    .await
    .unwrap_err();
    assert_eq!(stale.kind(), engine::ErrorKind::Conflict);
    let out = perform::perform(
        &c,
        &audit,
        Action::CeleryRetryGroup {
            fingerprint: fp.clone(),
            expected: Some(2),
        },
        "test",
    )
    .await
    .unwrap();
    let Outcome::Jobs(o) = out else {
        panic!("{out:?}")
    };
    assert_eq!((o.done.len(), o.skipped.len()), (2, 0), "{o:?}");
    // They run (and fail) again: back in the same group.
    eventually("the retried failures", || async {
        let t = tasks::get(&c, "bad-1").await.unwrap().unwrap();
        t.state == "FAILURE"
            && groups::group_info(&c, &fp)
                .await
                .unwrap()
                .is_some_and(|g| g.count == 2)
    })
    .await;
    let log = engine::audit::page(&audit, 0, 10).await.unwrap();
    assert!(log
        .items
        .iter()
        .any(|e| e.action == "celery-retry-group" && e.count == 2));
    events.abort();
}
