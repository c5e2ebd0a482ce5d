//! The read side against a state built by the real Python RQ 2.12 (`tests/interop/rq_fixture.py
//! build --quick`): every queue, every page of every list, every job and every worker loads
//! without an error, every count equals what Python RQ reports (with `cleanup=False`, so Python
//! does not mutate either), and decoded calls match Python's own `repr(job.args)`.
//!
//! Needs the venv (`/work/main/.venv`, or `TASKMILL_PYTHON=<interpreter>`); fails with a clear
//! message without it unless `TASKMILL_SKIP_PY=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use engine::model::{Codec, Decoded, JobList, JobStatus, PyValue, ResultType};
use engine::{job, queue, registry, snapshot, workers, Store};
use serde_json::Value;

use crate::support;
use crate::support::{python as interpreter, repo_root, run_python as run_py};

/// Stops the worker and cron scheduler `build` leaves running, even if the test fails.
struct Stop<'a>(&'a Path, String);
impl Drop for Stop<'_> {
    fn drop(&mut self) {
        let _ = Command::new(self.0)
            .args(["rq_fixture.py", "stop", &self.1])
            .current_dir(repo_root().join("tests/interop"))
            .output();
    }
}

/// What Python RQ says about the state: per-queue counts and ids, worker names, and per job the
/// func_name / args / kwargs / meta reprs (trying the pickle serializer, then JSON).
const PY_REPORT: &str = r#"
import sys, json
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.serializers import DefaultSerializer, JSONSerializer
from rq.registry import (StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry,
                         DeferredJobRegistry, ScheduledJobRegistry, CanceledJobRegistry)
r = Redis.from_url(sys.argv[1])
regs = {'started': StartedJobRegistry, 'finished': FinishedJobRegistry, 'failed': FailedJobRegistry,
        'deferred': DeferredJobRegistry, 'scheduled': ScheduledJobRegistry, 'canceled': CanceledJobRegistry}
out = {'queues': {}, 'jobs': {}, 'workers': sorted(k.decode()[len('rq:worker:'):] for k in r.smembers('rq:workers'))}
for name in sorted(k.decode()[len('rq:queue:'):] for k in r.smembers('rq:queues')):
    q = Queue(name, connection=r)
    counts = {'queued': len(q)}
    ids = {'queued': q.get_job_ids()}
    for reg, cls in regs.items():
        reg_obj = cls(name, connection=r)
        counts[reg] = reg_obj.get_job_count(cleanup=False)
        ids[reg] = sorted(set(i.split(':')[0] for i in reg_obj.get_job_ids(cleanup=False)))
    out['queues'][name] = {'counts': counts, 'ids': ids}
for id in sys.argv[2:]:
    for ser in (DefaultSerializer, JSONSerializer):
        try:
            j = Job.fetch(id, connection=r, serializer=ser)
            out['jobs'][id] = {'func_name': j.func_name, 'args': repr(j.args), 'kwargs': repr(j.kwargs),
                               'meta': repr(j.meta), 'status': j.get_status(refresh=False)}
            break
        except Exception as e:
            out['jobs'][id] = {'error': repr(e)}
print(json.dumps(out))
"#;

#[tokio::test]
async fn python_rq_fixture_reads_completely_and_matches_rq() {
    let Some(py) = interpreter() else { return };
    let url = support::fresh_url();
    let build = run_py(&py, &["rq_fixture.py", "build", &url, "--flush", "--quick"]);
    let _stop = Stop(&py, url.clone());
    assert!(build.contains("built in"), "{build}");
    let store = Store::connect(&url).await.unwrap();

    // Every queue, every page of every list (page size 3 to cross page boundaries).
    let queues = queue::list(&store).await.unwrap();
    assert!(queues.len() >= 8, "{queues:?}");
    let mut listed: std::collections::HashMap<(String, JobList), Vec<String>> = Default::default();
    let mut all_ids = BTreeSet::new();
    let mut pages = 0;
    for q in &queues {
        for list in JobList::ALL {
            let mut offset = 0;
            let mut ids = Vec::new();
            loop {
                let page = registry::page(&store, q, list, offset, 3).await.unwrap();
                pages += 1;
                for s in &page.items {
                    assert!(
                        s.exists || list != JobList::Queued,
                        "{q} {list:?}: {} has no hash",
                        s.id
                    );
                    assert!(s.problem.is_none(), "{}: {:?}", s.id, s.problem);
                    ids.push(s.id.clone());
                }
                offset += page.items.len() as u64;
                if page.items.is_empty() || offset >= page.total {
                    assert_eq!(offset, page.total, "{q} {list:?}");
                    break;
                }
            }
            all_ids.extend(ids.iter().cloned());
            listed.insert((q.clone(), list), ids);
        }
    }
    // Jobs outside every list (e.g. status `created`) via the keyspace — test-only KEYS.
    let mut conn = store.conn();
    let job_keys: Vec<String> = redis::cmd("KEYS")
        .arg("rq:job:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    all_ids.extend(
        job_keys
            .iter()
            .filter_map(|k| k.strip_prefix("rq:job:"))
            .filter(|r| !r.contains(':'))
            .map(str::to_string),
    );

    let mut details = BTreeMap::new();
    for id in &all_ids {
        if let Some(d) = job::fetch(&store, id).await.unwrap() {
            assert!(d.call.is_ok(), "{id}: {:?}", d.call);
            if let Some(m) = &d.meta {
                assert!(matches!(m, Decoded::Ok { .. }), "{id} meta: {m:?}");
            }
            for r in &d.results {
                assert!(r.kind != ResultType::Unknown, "{id}");
                assert!(
                    !matches!(r.return_value, Some(Decoded::Undecodable { .. })),
                    "{id}: {r:?}"
                );
            }
            details.insert(id.clone(), d);
        }
    }
    let snap = snapshot::take(&store).await.unwrap();
    let ws = workers::list(&store).await.unwrap();
    for w in &ws {
        assert_eq!(
            workers::get(&store, &w.name)
                .await
                .unwrap()
                .as_ref()
                .map(|x| &x.name),
            Some(&w.name)
        );
    }
    let failed_all = registry::failed_all(&store, 0, registry::MAX_PAGE)
        .await
        .unwrap();

    // Python RQ's view of the same state.
    let mut args = vec![PY_REPORT.trim_start(), &url];
    let ids: Vec<&str> = details.keys().map(String::as_str).collect();
    args.splice(0..0, ["-c"]);
    args.extend(ids.iter().copied());
    let report: Value =
        serde_json::from_str(run_py(&py, &args).trim()).expect("python printed JSON");

    let py_queues = report["queues"].as_object().unwrap();
    assert_eq!(
        py_queues.keys().cloned().collect::<Vec<_>>(),
        queues,
        "queue names"
    );
    let mut compared = 0;
    for (qi, q) in queues.iter().enumerate() {
        let c = &snap.queues[qi];
        assert_eq!(c.name, *q);
        for list in JobList::ALL {
            let want = py_queues[q]["counts"][list.as_str()].as_u64().unwrap();
            assert_eq!(c.get(list), want, "{q} {list:?} count (snapshot vs Python)");
            let mut got = listed[&(q.clone(), list)].clone();
            assert_eq!(got.len() as u64, want, "{q} {list:?} paged ids");
            let mut py_ids: Vec<String> =
                serde_json::from_value(py_queues[q]["ids"][list.as_str()].clone()).unwrap();
            if list == JobList::Queued {
                assert_eq!(got, py_ids, "{q} queue order");
            } else {
                got.sort();
                got.dedup();
                py_ids.sort();
                assert_eq!(got, py_ids, "{q} {list:?} ids");
            }
            compared += 1;
        }
    }
    let total_failed: u64 = snap.queues.iter().map(|q| q.failed).sum();
    assert_eq!(
        (failed_all.total, failed_all.items.len() as u64),
        (total_failed, total_failed)
    );
    let py_workers: Vec<String> = serde_json::from_value(report["workers"].clone()).unwrap();
    assert_eq!(
        ws.iter().map(|w| w.name.clone()).collect::<Vec<_>>(),
        py_workers,
        "worker names"
    );
    assert!(ws
        .iter()
        .any(|w| w.name == "fx-worker-running" && w.state == "busy" && !w.stale));

    // Every job's call, kwargs and meta render exactly like Python's repr.
    for (id, d) in &details {
        let p = &report["jobs"][id.as_str()];
        assert!(p.get("error").is_none(), "python could not load {id}: {p}");
        let call = d.call.as_ref().unwrap();
        assert_eq!(call.func_name, p["func_name"].as_str().unwrap(), "{id}");
        let args = match call.codec {
            Codec::Pickle => PyValue::Tuple(call.args.clone()),
            Codec::Json => PyValue::List(call.args.clone()),
        };
        assert_eq!(
            args.repr_limited(usize::MAX),
            p["args"].as_str().unwrap(),
            "{id} args"
        );
        let kwargs = PyValue::Dict(
            call.kwargs
                .iter()
                .map(|(k, v)| (PyValue::Str(k.clone()), v.clone()))
                .collect(),
        );
        assert_eq!(
            kwargs.repr_limited(usize::MAX),
            p["kwargs"].as_str().unwrap(),
            "{id} kwargs"
        );
        if let Some(Decoded::Ok { value, .. }) = &d.meta {
            assert_eq!(
                value.repr_limited(usize::MAX),
                p["meta"].as_str().unwrap(),
                "{id} meta"
            );
        }
        assert_eq!(
            d.summary.status.as_ref().map(|s| s.as_str().to_string()),
            p["status"].as_str().map(str::to_string),
            "{id}"
        );
        compared += 1;
    }

    // Spot checks on known fixture jobs.
    let d = &details["fx-default-queued"];
    assert_eq!(
        d.call.as_ref().unwrap().args,
        vec![PyValue::Int(3), PyValue::Int(4)]
    );
    let d = &details["fx-json-queued"];
    let call = d.call.as_ref().unwrap();
    assert_eq!(
        (call.codec, call.func_name.as_str()),
        (Codec::Json, "rq_fixture_tasks.echo")
    );
    assert_eq!(
        call.args,
        vec![PyValue::Str(
            "héllo wörld ✓ 日本語 🚀 ÆØÅ ß ∑ \u{a0}nbsp \u{1f600}".into()
        )]
    );
    let d = &details["fx-default-failed"];
    assert_eq!(
        d.summary.exc_summary.as_deref(),
        Some("ZeroDivisionError: division by zero")
    );
    let row = failed_all
        .items
        .iter()
        .find(|s| s.id == "fx-default-failed")
        .unwrap();
    assert_eq!(
        row.exc_summary.as_deref(),
        Some("ZeroDivisionError: division by zero")
    );
    assert_eq!(row.func_name.as_deref(), Some("rq_fixture_tasks.divide"));
    let d = &details["fx-json-finished-dict"];
    match &d.results[0].return_value {
        Some(Decoded::Ok {
            codec: Codec::Json,
            value,
            ..
        }) => {
            assert_eq!(
                value.repr(),
                "{'args': ['a', 1], 'kwargs': {'x': {'k': [1, 2]}}}"
            )
        }
        other => panic!("{other:?}"),
    }
    let d = &details["fx-default-return-retry"];
    assert!(d
        .results
        .iter()
        .all(|r| r.kind == ResultType::Retried || r.kind == ResultType::MaxRetriesExceeded));
    assert!(
        matches!(&d.legacy_result, Some(Decoded::Ok { value, .. }) if value.repr().starts_with("rq.job.Retry("))
    );
    let d = &details["fx-slow-running"];
    assert_eq!(d.summary.status, Some(JobStatus::Started));
    assert_eq!(d.executions.len(), 1);
    assert!(d.dependents.is_empty());
    assert_eq!(
        details["fx-default-deferred-allowfail"]
            .dependency_ids
            .len(),
        2
    );
    assert!(details["fx-default-deferred-allowfail"].allow_dependency_failures);
    println!(
        "fixture: {} queues, {pages} pages, {} jobs, {} workers, {compared} comparisons with Python RQ",
        queues.len(),
        details.len(),
        ws.len()
    );
}
