//! History (`engine::stats`) against a real Redis: series sums equal the jobs a Taskmill pool and
//! a Python `rq worker` actually ran, per queue and per function; buckets roll over on an
//! injected clock; one sample per interval slot however many consoles sample; Python worker
//! restarts and deaths; retention TTLs.

use std::time::Duration;

use engine::enqueue::enqueue;
use engine::model::{
    QueueCounts, Snapshot, StatsMetric as M, StatsRange as R, WorkerInfo, DURATION_BUCKETS,
};
use engine::stats::{self, SampleOutcome};
use engine::worker::Handlers;
use engine::{keys, time, Store};
use redis::AsyncCommands;
use serde_json::json;

use crate::support;
use crate::worker::{burst, cfg, eventually, job};

fn now() -> i64 {
    time::now() as i64
}

/// Sum of a series' points (counters have no nulls).
async fn total(store: &Store, metric: M, queue: Option<&str>, range: R) -> f64 {
    let s = stats::series(store, metric, queue, range, now())
        .await
        .unwrap();
    assert_eq!(s.points.len(), range.points());
    s.points.iter().map(|(_, v)| v.expect("counter")).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taskmill_pool_counts_per_queue_and_function() {
    let store = support::store().await;
    for (q, f, n) in [
        ("sa", "taskmill.echo", 5),
        ("sa", "taskmill.fail", 2),
        ("sb", "taskmill.echo", 3),
        ("sb", "taskmill.sleep", 2),
    ] {
        for _ in 0..n {
            let args = if f == "taskmill.sleep" {
                vec![json!(0.03)]
            } else {
                vec![json!(1)]
            };
            enqueue(&store, job(q, f, args)).await.unwrap();
        }
    }
    let report = burst(&store, cfg(&["sa", "sb"], 3, true), Handlers::builtin()).await;
    assert_eq!((report.succeeded, report.failed), (10, 2));

    for range in [R::Hour, R::Day, R::Week, R::Month] {
        assert_eq!(total(&store, M::Finished, Some("sa"), range).await, 5.0);
        assert_eq!(total(&store, M::Failed, Some("sa"), range).await, 2.0);
        assert_eq!(total(&store, M::Finished, Some("sb"), range).await, 5.0);
        assert_eq!(total(&store, M::Failed, Some("sb"), range).await, 0.0);
        assert_eq!(total(&store, M::Finished, None, range).await, 10.0);
        assert_eq!(total(&store, M::Failed, None, range).await, 2.0);
        assert_eq!(total(&store, M::Finished, Some("nope"), range).await, 0.0);
    }

    for range in [R::Hour, R::Month] {
        let fns = stats::functions(&store, range, now()).await.unwrap();
        let names: Vec<(&str, u64, u64)> = fns
            .iter()
            .map(|f| (f.function.as_str(), f.count, f.failed))
            .collect();
        assert_eq!(
            names,
            vec![
                ("taskmill.echo", 8, 0),
                ("taskmill.fail", 2, 2),
                ("taskmill.sleep", 2, 0)
            ]
        );
        for f in &fns {
            assert_eq!(f.histogram.len(), DURATION_BUCKETS);
            assert_eq!(f.histogram.iter().sum::<u64>(), f.count);
        }
        let sleep = &fns[2];
        assert!(sleep.p50_s >= 0.025 && sleep.p50_s <= 0.1, "{sleep:?}");
        assert!(sleep.total_s >= 0.06, "{sleep:?}");
    }

    let t = stats::totals(&store, &["sa".into(), "sb".into()])
        .await
        .unwrap();
    assert_eq!((t[0].finished, t[0].failed, t[1].finished), (5, 2, 5));
    let sleep = t[1]
        .functions
        .iter()
        .find(|f| f.function == "taskmill.sleep")
        .unwrap();
    assert_eq!(sleep.count, 2);
    assert_eq!(sleep.histogram.iter().sum::<u64>(), 2);

    // Every history key expires (the totals excepted).
    let mut conn = store.conn();
    let ks: Vec<String> = conn.keys("taskmill:stats:*").await.unwrap();
    assert!(ks.len() > 8, "{ks:?}");
    for k in ks {
        let ttl: i64 = conn.ttl(&k).await.unwrap();
        if k.starts_with("taskmill:stats:t:") {
            assert_eq!(ttl, -1, "{k}");
        } else {
            assert!(ttl > 0 && ttl <= 90 * 86_400 + 86_400, "{k} ttl {ttl}");
        }
    }
}

fn worker(name: &str, queue: &str, ok: u64, failed: u64, birth: f64) -> WorkerInfo {
    WorkerInfo {
        name: name.into(),
        hostname: None,
        pid: None,
        ip_address: None,
        version: None,
        python_version: None,
        queues: vec![queue.into()],
        state: "busy".into(),
        current_job: None,
        current_job_working_time: None,
        birth: Some(birth),
        last_heartbeat: None,
        death: None,
        successful_job_count: ok,
        failed_job_count: failed,
        total_working_time: 0.0,
        heartbeat_age: None,
        stale: false,
        pool: None,
    }
}

fn snap(queued: u64, workers: Vec<WorkerInfo>) -> Snapshot {
    Snapshot {
        queues: vec![QueueCounts {
            name: "rq1".into(),
            queued,
            started: 1,
            oldest_queued_age: (queued > 0).then_some(12.5),
            ..QueueCounts::default()
        }],
        workers,
        ..Snapshot::default()
    }
}

async fn point(store: &Store, m: M, q: Option<&str>, r: R, now: i64, at: i64) -> Option<f64> {
    let s = stats::series(store, m, q, r, now).await.unwrap();
    s.points
        .iter()
        .find(|(t, _)| *t == at)
        .unwrap_or_else(|| panic!("no bucket {at} in {s:?}"))
        .1
}

/// Gauges and Python counter deltas land in the bucket of the injected `now`, across minute,
/// hour and day boundaries; a restart (counters down, new birth) counts the new counters; a
/// worker first seen after the previous sample but born before it is a baseline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_roll_over_on_an_injected_clock() {
    let store = support::store().await;
    // Tomorrow's UTC midnight: an injected clock, near enough to the real one that the keys'
    // EXPIREAT (bucket end + retention) lies in the future.
    let day = now() - now() % 86_400 + 86_400;
    let t0 = day + 86_400 - 70; // 23:58:50
    let w = |ok, failed, birth| vec![worker("py1", "rq1", ok, failed, birth)];

    // First sample ever: counters are a baseline.
    stats::write_sample(&store, &snap(4, w(10, 1, 100.0)), t0)
        .await
        .unwrap();
    // 23:59:10: +3 ok, +1 failed.
    stats::write_sample(&store, &snap(6, w(13, 2, 100.0)), t0 + 20)
        .await
        .unwrap();
    // 00:00:05 next day (new minute, hour and day keys): restarted under the same name.
    let out = stats::write_sample(&store, &snap(0, w(2, 0, 200.0)), t0 + 75)
        .await
        .unwrap();
    assert_eq!(
        out,
        SampleOutcome::Written {
            finished: 2,
            failed: 0
        }
    );

    let now = t0 + 75;
    let m1 = t0 - t0 % 60; // 23:58
    let m2 = m1 + 60; // 23:59
    let m3 = m2 + 60; // 00:00
    assert_eq!(
        point(&store, M::Finished, Some("rq1"), R::Hour, now, m1).await,
        Some(0.0)
    );
    assert_eq!(
        point(&store, M::Finished, Some("rq1"), R::Hour, now, m2).await,
        Some(3.0)
    );
    assert_eq!(
        point(&store, M::Failed, Some("rq1"), R::Hour, now, m2).await,
        Some(1.0)
    );
    assert_eq!(
        point(&store, M::Finished, None, R::Hour, now, m3).await,
        Some(2.0)
    );
    assert_eq!(
        point(&store, M::Depth, Some("rq1"), R::Day, now, m1).await,
        Some(4.0)
    );
    assert_eq!(
        point(&store, M::Depth, None, R::Hour, now, m2).await,
        Some(6.0)
    );
    assert_eq!(
        point(&store, M::Depth, Some("rq1"), R::Hour, now, m3).await,
        Some(0.0)
    );
    assert_eq!(
        point(&store, M::Latency, None, R::Hour, now, m2).await,
        Some(12.5)
    );
    assert_eq!(
        point(&store, M::Busy, Some("rq1"), R::Hour, now, m2).await,
        Some(1.0)
    );
    assert_eq!(
        point(&store, M::Idle, None, R::Hour, now, m2).await,
        Some(0.0)
    );
    assert_eq!(
        point(&store, M::Started, None, R::Hour, now, m2).await,
        Some(1.0)
    );
    // Never sampled: null, not 0.
    assert_eq!(
        point(&store, M::Depth, None, R::Hour, now, m1 - 60).await,
        None
    );

    // Hour buckets: 23:00 holds 3 + 1, 00:00 holds 2; the gauge is the hour's last sample.
    let h1 = day + 23 * 3_600;
    assert_eq!(
        point(&store, M::Finished, Some("rq1"), R::Week, now, h1).await,
        Some(3.0)
    );
    assert_eq!(
        point(&store, M::Finished, Some("rq1"), R::Month, now, h1 + 3_600).await,
        Some(2.0)
    );
    assert_eq!(
        point(&store, M::Depth, Some("rq1"), R::Week, now, h1).await,
        Some(6.0)
    );
    let s = stats::series(&store, M::Finished, None, R::Week, now)
        .await
        .unwrap();
    assert_eq!(s.step_s, 3_600);
    assert_eq!(s.points.last().unwrap().0, h1 + 3_600);
    assert!(s.points.windows(2).all(|p| p[1].0 - p[0].0 == 3_600));

    // A second worker born before the last sample but first seen now: baseline (0); a third
    // born after it: all of its counters are new work.
    let ws = vec![
        worker("py1", "rq1", 2, 0, 200.0),
        worker("py2", "rq1", 50, 5, 100.0),
        worker("py3", "rq1", 4, 1, (t0 + 80) as f64),
    ];
    let out = stats::write_sample(&store, &snap(0, ws), t0 + 90)
        .await
        .unwrap();
    assert_eq!(
        out,
        SampleOutcome::Written {
            finished: 4,
            failed: 1
        }
    );

    // An hour later the window has moved on: the 23:58 and 23:59 buckets left the 1 h series.
    let later = now + 3_600;
    let s = stats::series(&store, M::Finished, None, R::Hour, later)
        .await
        .unwrap();
    assert_eq!(s.points.first().unwrap().0, later - later % 60 - 59 * 60);
    assert!(s.points.iter().all(|(t, _)| *t > m2));
}

/// Two consoles sampling the same interval slot write once; the next slot is written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_samplers_write_one_sample_per_interval() {
    let store = support::store().await;
    let other = Store::connect(store.url()).await.unwrap();
    enqueue(&store, job("two", "taskmill.echo", vec![]))
        .await
        .unwrap();
    let t = now() - now() % 10;
    let (a, b) = tokio::join!(
        stats::sample(&store, t + 1, 10),
        stats::sample(&other, t + 2, 10)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let written = outcomes
        .iter()
        .filter(|o| matches!(o, SampleOutcome::Written { .. }))
        .count();
    assert_eq!(written, 1, "{outcomes:?}");
    assert_eq!(
        stats::sample(&other, t + 9, 10).await.unwrap(),
        SampleOutcome::Skipped
    );
    assert!(matches!(
        stats::sample(&other, t + 10, 10).await.unwrap(),
        SampleOutcome::Written { .. }
    ));
    let depth = point(&store, M::Depth, Some("two"), R::Hour, t + 10, t - t % 60).await;
    assert_eq!(depth, Some(1.0));
}

/// Retention comes from `configure` (what `serve --stats-*-retention` stores).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_is_read_by_the_writers() {
    let store = support::store().await;
    stats::configure(
        &store,
        stats::Retention {
            minute_s: 600,
            hour_s: 7_200,
        },
    )
    .await
    .unwrap();
    let now = now();
    stats::write_sample(&store, &snap(1, vec![]), now)
        .await
        .unwrap();
    let hour = now - now % 3_600;
    let day = now - now % 86_400;
    let mut conn = store.conn();
    let m: i64 = conn
        .ttl(keys::stats_gauges("m", &hour.to_string(), keys::STATS_ALL))
        .await
        .unwrap();
    let h: i64 = conn
        .ttl(keys::stats_gauges("h", &day.to_string(), keys::STATS_ALL))
        .await
        .unwrap();
    assert!(m > 0 && m <= 3_600 + 600, "{m}");
    assert!(h > 0 && h <= 86_400 + 7_200, "{h}");
}

/// A Python `rq worker --burst` run: its jobs appear in the queue's series, attributed from its
/// worker-hash counters by the sampler (alive once, then after its death).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_rq_worker_jobs_appear() {
    let Some(bin) = crate::enqueue::venv_bin() else {
        return;
    };
    let store = support::store().await;
    let url = store.url().to_string();
    // A baseline sample before the worker exists.
    stats::write_sample(
        &store,
        &engine::snapshot::take(&store).await.unwrap(),
        now(),
    )
    .await
    .unwrap();
    enqueue(&store, job("pyq", "pytasks.sleepy", vec![json!(1.5)]))
        .await
        .unwrap();
    for i in 0..4 {
        enqueue(&store, job("pyq", "pytasks.echo", vec![json!(i)]))
            .await
            .unwrap();
    }
    enqueue(&store, job("pyq", "pytasks.fail", vec![json!("no")]))
        .await
        .unwrap();
    let rq = bin.join("rq");
    let interop = support::repo_root().join("tests/interop");
    let mut child = tokio::process::Command::new(&rq)
        .args(["worker", "-S", "json", "--burst", "--path"])
        .arg(&interop)
        .args(["--url", &url, "pyq"])
        .current_dir(&interop)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("rq worker starts");
    eventually("the rq worker registers", 20, || {
        let store = store.clone();
        async move {
            let n: u64 = store.conn().scard(keys::WORKERS).await.unwrap();
            n == 1
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stats::write_sample(
        &store,
        &engine::snapshot::take(&store).await.unwrap(),
        now(),
    )
    .await
    .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("rq worker ends")
        .unwrap();
    assert!(status.success());
    // Gone from rq:workers: the last sample reads its hash (kept 60 s after death).
    stats::write_sample(
        &store,
        &engine::snapshot::take(&store).await.unwrap(),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(total(&store, M::Finished, Some("pyq"), R::Hour).await, 5.0);
    assert_eq!(total(&store, M::Failed, Some("pyq"), R::Hour).await, 1.0);
    assert_eq!(total(&store, M::Finished, None, R::Month).await, 5.0);
    let t = stats::totals(&store, &["pyq".into()]).await.unwrap();
    assert_eq!((t[0].finished, t[0].failed), (5, 1));
    // Python workers do not say which function ran.
    assert!(stats::functions(&store, R::Hour, now())
        .await
        .unwrap()
        .is_empty());
    // Forgotten after its death was read.
    let seen: u64 = store.conn().hlen(keys::STATS_RQ_SEEN).await.unwrap();
    assert_eq!(seen, 0);
}

/// The /metrics totals keep at most `FUNCTION_CAP` function names per queue: the first ones seen
/// keep their names (and keep counting under them), every later one counts as `other`, and the
/// hour/minute history (which is not capped) still has every name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_cap_function_names_per_queue() {
    let store = support::store().await;
    let cap = stats::FUNCTION_CAP as usize;
    let rec = |f: String, ok: bool| stats::JobRecord {
        queue: "capq".into(),
        function: f,
        ok,
        duration_s: 0.02,
    };
    let first: Vec<_> = (0..cap).map(|i| rec(format!("f{i}"), true)).collect();
    assert_eq!(
        stats::record(&store, now(), &first).await.unwrap(),
        cap as u64
    );
    // Two new names over the cap, one named function again, one failure of a new name.
    let later = vec![
        rec("late.a".into(), true),
        rec("late.b".into(), true),
        rec("f0".into(), true),
        rec("late.c".into(), false),
    ];
    stats::record(&store, now(), &later).await.unwrap();

    let t = stats::totals(&store, &["capq".into()]).await.unwrap();
    assert_eq!((t[0].finished, t[0].failed), (cap as u64 + 3, 1));
    let count = |name: &str| {
        t[0].functions
            .iter()
            .find(|f| f.function == name)
            .map(|f| f.count)
    };
    assert_eq!(t[0].functions.len(), cap + 1, "{:?}", t[0].functions);
    assert_eq!(count("f0"), Some(2));
    assert_eq!(count("f1"), Some(1));
    assert_eq!(count("other"), Some(3));
    assert_eq!(count("late.a"), None);

    let fns = stats::functions(&store, R::Hour, now()).await.unwrap();
    assert_eq!(fns.len(), cap + 3);
    assert!(fns.iter().any(|f| f.function == "late.c" && f.failed == 1));
}
