//! Parity with Python RQ: the same jobs run by `rq worker -S json` and by a Taskmill pool leave
//! the same keyspace.

use engine::enqueue::{enqueue, NewJob, Retry};
use engine::worker::{self, Handlers};
use engine::{time, Store};
use serde_json::{json, Value};

use super::*;
use crate::support;

/// The same jobs run by Python's `rq worker -S json --burst` and by a Taskmill burst pool, each
/// in its own database, leave the same keyspace (worker records aside): same keys, types, TTL
/// presence, hash fields and values (timestamps and worker names redacted), list and set
/// contents, and registry scores relative to now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_state_matches_python_rq_worker() {
    let Some(bin) = crate::enqueue::venv_bin() else {
        return;
    };
    let jobs = || {
        let mut echo = NewJob::new("pq", "pytasks.echo")
            .args(vec![json!(1), json!("x")])
            .id("p-echo");
        echo.kwargs.insert("k".into(), json!(2));
        let child = NewJob::new("pq", "pytasks.add")
            .args(vec![json!(2), json!(3)])
            .id("p-child")
            .depends_on(vec!["p-echo".into()]);
        let fail = NewJob::new("pq", "pytasks.fail")
            .args(vec![json!("boom")])
            .id("p-fail");
        let mut retry = NewJob::new("pq", "pytasks.fail")
            .args(vec![json!("again")])
            .id("p-retry");
        retry.retry = Some(Retry {
            max: 1,
            intervals: vec![0],
        });
        let mut keep = NewJob::new("pq", "pytasks.add")
            .args(vec![json!(1), json!(1)])
            .id("p-keep");
        keep.result_ttl = Some(-1);
        let mut fttl = NewJob::new("pq", "pytasks.fail")
            .args(vec![json!("ttl")])
            .id("p-fttl");
        fttl.failure_ttl = Some(100);
        vec![echo, child, fail, retry, keep, fttl]
    };
    let mut handlers = Handlers::builtin();
    handlers.register("pytasks.echo", |args, kwargs| async move {
        Ok(json!({"args": args, "kwargs": kwargs}))
    });
    handlers.register("pytasks.add", |args, _| async move {
        Ok(json!(args.iter().filter_map(Value::as_i64).sum::<i64>()))
    });
    handlers.register("pytasks.fail", |args, _| async move {
        Err(worker::JobError {
            traceback: format!("RuntimeError: {}", args[0].as_str().unwrap_or_default()),
        })
    });

    let py_url = support::fresh_url();
    let py = Store::connect(&py_url).await.unwrap();
    for j in jobs() {
        enqueue(&py, j).await.unwrap();
    }
    crate::enqueue::rq_worker_burst(&bin, &py_url, "pq");

    let tm = support::store().await;
    for j in jobs() {
        enqueue(&tm, j).await.unwrap();
    }
    let report = burst(&tm, cfg(&["pq"], 1, true), handlers).await;
    assert_eq!((report.succeeded, report.failed, report.retried), (3, 3, 1));

    let (py_state, tm_state) = (comparable(&py).await, comparable(&tm).await);
    for id in ["p-echo", "p-child", "p-fail", "p-retry", "p-keep", "p-fttl"] {
        assert_eq!(
            result_shape(&tm, id).await,
            result_shape(&py, id).await,
            "results of {id}"
        );
    }
    assert_eq!(
        tm_state,
        py_state,
        "\ntaskmill:\n{}\npython:\n{}",
        tm_state.join("\n"),
        py_state.join("\n")
    );
}

/// `enqueue::snapshot` minus worker records, with worker names and scores made comparable.
async fn comparable(store: &Store) -> Vec<String> {
    let now = time::now();
    crate::enqueue::snapshot(store)
        .await
        .into_iter()
        .filter(|l| {
            ![
                "rq:worker",
                "rq:workers",
                "taskmill:",
                "rq:clean_registries",
                "rq:scheduler",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(|l| {
            let (head, body) = l.split_once("] ").unwrap_or((&l, ""));
            let body = if head.contains("[zset") {
                let mut members: Vec<String> = body
                    .split(',')
                    .map(|m| match m.rsplit_once('@') {
                        Some((id, s)) => match s.parse::<f64>() {
                            Ok(s) if s > 1e9 => {
                                format!("{id}@now+{}", ((s - now) / 50.0).round() * 50.0)
                            }
                            _ => m.to_string(),
                        },
                        None => m.to_string(),
                    })
                    .collect();
                // Members with equal rounded scores may be ordered differently by a second's
                // difference in the real scores (which side crossed a second boundary).
                members.sort();
                members.join(",")
            } else {
                body.split(" | ")
                    .map(|f| match f.split_once('=') {
                        Some(("worker_name", v)) if !v.is_empty() => "worker_name=<w>".to_string(),
                        _ => f.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            format!("{head}] {body}")
        })
        .collect()
}

/// Each result entry as: type, sorted field names, return value, last traceback line.
async fn result_shape(store: &Store, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in raw_results(store, id).await {
        let mut names: Vec<&String> = e.keys().collect();
        names.sort();
        let rv = e.get("return_value").map(|v| unb64(v)).unwrap_or_default();
        let exc = engine::result::decode_exc_string(
            e.get("exc_string")
                .map(String::as_bytes)
                .unwrap_or_default(),
        );
        let last = engine::result::exc_summary(&exc).unwrap_or_default();
        out.push(format!("{} {names:?} {rv} {last}", e["type"]));
    }
    out
}
