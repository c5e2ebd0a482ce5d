//! Cron against a real Redis: three runners on one injected clock enqueue each tick exactly
//! once, the one catch-up after downtime, RQ's cron keys as Python's `rq` reads them, a real
//! `rq cron` scheduler listed next to Taskmill's, and run-now (audited).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use engine::actions::{perform, Action, Outcome};
use engine::cron::config::parse;
use engine::cron::runner::{run, Clock, ManualClock, RunnerConfig};
use engine::cron::state;
use engine::{keys, Store};
use redis::AsyncCommands;
use tokio_util::sync::CancellationToken;

use crate::enqueue::{python, venv_bin};
use crate::support;

const FILE: &str = r#"
[jobs.tick10]
func = "cron.tick"
queue = "cronq"
interval = 10

[jobs.minutely]
func = "cron.minute"
queue = "cronq"
cron = "* * * * *"
timezone = "Europe/Berlin"
args = [1, "two"]
"#;

fn cfg() -> RunnerConfig {
    RunnerConfig {
        config_file: "cron.toml".into(),
        poll: Duration::from_millis(10),
        heartbeat: Duration::from_secs(30),
    }
}

async fn zcard(store: &Store, key: &str) -> u64 {
    store.conn().zcard(key).await.unwrap()
}

/// Real time rounded down to a minute, plus one second (so registry scores look fresh).
fn minute_start() -> f64 {
    (engine::time::now() / 60.0).floor() * 60.0 + 1.0
}

#[tokio::test]
async fn three_runners_enqueue_each_tick_exactly_once() {
    let url = support::fresh_url();
    let store = Store::connect(&url).await.unwrap();
    let jobs = parse(FILE).unwrap();
    let t0 = minute_start();
    let clock = Arc::new(ManualClock::new(t0));
    let cancel = CancellationToken::new();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        // Each runner its own connection, like separate processes.
        let s = Store::connect(&url).await.unwrap();
        let c: Arc<dyn Clock> = clock.clone();
        tasks.push(tokio::spawn(run(s, jobs.clone(), c, cfg(), cancel.clone())));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(zcard(&store, keys::CRON_SCHEDULERS).await, 3);
    for _ in 0..24 {
        clock.advance(5.0);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    cancel.cancel();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap().unwrap();
    }
    // tick10: the start slot + 12 slots in 120 s; minutely: 2 minutes crossed.
    let tick10 = zcard(&store, &keys::cron_job_history("tick10")).await;
    let minutely = zcard(&store, &keys::cron_job_history("minutely")).await;
    assert_eq!((tick10, minutely), (13, 2));
    assert_eq!(total, 15, "each tick enqueued by exactly one runner");
    let queued: u64 = store.conn().llen(keys::queue("cronq")).await.unwrap();
    assert_eq!(queued, 15);
    let last: i64 = store.conn().get(keys::cron_last("minutely")).await.unwrap();
    assert_eq!(last as f64, t0 - 1.0 + 120.0);
    // RQ's job-name registry, and every scheduler unregistered on shutdown.
    assert_eq!(zcard(&store, keys::CRON_JOBS).await, 2);
    assert_eq!(zcard(&store, keys::CRON_SCHEDULERS).await, 0);
}

#[tokio::test]
async fn downtime_gets_one_catch_up_not_a_replay() {
    let url = support::fresh_url();
    let store = Store::connect(&url).await.unwrap();
    let jobs = parse(FILE).unwrap();
    let t0 = minute_start();
    // Last ran 1000 s ago (100 ticks of 10 s and 16 minutes missed).
    let _: () = store
        .conn()
        .set(
            keys::cron_last("tick10"),
            (t0 as i64 - 1 - 1000).to_string(),
        )
        .await
        .unwrap();
    let _: () = store
        .conn()
        .set(
            keys::cron_last("minutely"),
            (t0 as i64 - 1 - 960).to_string(),
        )
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::new(t0 + 3.0));
    let cancel = CancellationToken::new();
    let task = tokio::spawn(run(
        store.clone(),
        jobs,
        clock.clone(),
        cfg(),
        cancel.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(zcard(&store, &keys::cron_job_history("tick10")).await, 1);
    assert_eq!(zcard(&store, &keys::cron_job_history("minutely")).await, 1);
    // Nothing more until the next slot; then one each.
    clock.advance(2.0);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(zcard(&store, &keys::cron_job_history("tick10")).await, 1);
    clock.advance(6.0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(zcard(&store, &keys::cron_job_history("tick10")).await, 2);
    cancel.cancel();
    assert_eq!(task.await.unwrap().unwrap(), 3);
}

#[tokio::test]
async fn python_reads_taskmill_schedulers_and_taskmill_lists_rq_cron() {
    let Some(bin) = venv_bin() else { return };
    let url = support::fresh_url();
    let store = Store::connect(&url).await.unwrap();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(run(
        store.clone(),
        parse(FILE).unwrap(),
        Arc::new(engine::cron::runner::SystemClock),
        cfg(),
        cancel.clone(),
    ));
    // A real `rq cron` with a config file of its own.
    let dir = std::env::temp_dir().join(format!("tm-rqcron-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("cron_config.py"),
        "from rq import cron\n\ndef nightly():\n    return 1\n\n\
         cron.register(nightly, 'pyq', interval=3600, name='py-nightly')\n\
         cron.register(nightly, 'pyq', cron='30 2 * * *', name='py-cron')\n",
    )
    .unwrap();
    let mut rq = RqCron(
        Command::new(bin.join("rq"))
            .args(["cron", "-u", &url])
            .arg(dir.join("cron_config.py"))
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rq cron"),
    );
    let mut overview = None;
    for _ in 0..100 {
        let o = state::overview(&store, engine::time::now()).await.unwrap();
        let py_ran = o
            .schedulers
            .iter()
            .flat_map(|s| &s.jobs)
            .any(|j| j.name == "py-nightly" && j.last_job_id.is_some());
        if o.schedulers.len() == 2 && py_ran {
            overview = Some(o);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let o = overview.expect("both schedulers listed, rq's interval job enqueued");
    let kinds: Vec<&str> = o.schedulers.iter().map(|s| s.kind.as_str()).collect();
    assert!(
        kinds.contains(&"rq") && kinds.contains(&"taskmill"),
        "{kinds:?}"
    );
    let rq_s = o.schedulers.iter().find(|s| s.kind == "rq").unwrap();
    assert!(!rq_s.stale && rq_s.undecodable.is_none());
    let py_cron = rq_s.jobs.iter().find(|j| j.name == "py-cron").unwrap();
    assert_eq!(py_cron.cron.as_deref(), Some("30 2 * * *"));
    assert!(py_cron.next_enqueue_time.is_some());
    let nightly = rq_s.jobs.iter().find(|j| j.name == "py-nightly").unwrap();
    assert_eq!(nightly.last_job_status.as_deref(), Some("queued"));
    let tm = o.schedulers.iter().find(|s| s.kind == "taskmill").unwrap();
    let minutely = tm.jobs.iter().find(|j| j.name == "minutely").unwrap();
    assert_eq!(minutely.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(minutely.schedule_text(), "* * * * * (Europe/Berlin)");

    // Python's CronScheduler.fetch reads Taskmill's hash, jobs and all.
    let code = "import sys\nfrom redis import Redis\nfrom rq.cron import CronScheduler\n\
        c = Redis.from_url(sys.argv[1])\n\
        s = CronScheduler.fetch(sys.argv[2], c)\n\
        print(s.hostname, s.pid, ','.join(sorted(j.name + ':' + j.queue_name + ':' + j.func_name for j in s.get_jobs())), \
        [j.args for j in s.get_jobs() if j.name == 'minutely'][0])";
    let out = python(&bin, code, &[&url, &tm.name]);
    assert!(
        out.contains("minutely:cronq:cron.minute,tick10:cronq:cron.tick (1, 'two')"),
        "{out}"
    );

    // Run now: the rq cron job, by name, as JSON; history and audit written.
    let before = zcard(&store, &keys::cron_job_history("py-cron")).await;
    let out = perform(
        &store,
        Action::RunCron {
            name: "py-cron".into(),
        },
        "tester",
    )
    .await
    .unwrap();
    let Outcome::Enqueued { id } = out else {
        panic!("{out:?}")
    };
    assert_eq!(
        zcard(&store, &keys::cron_job_history("py-cron")).await,
        before + 1
    );
    let func: String = store
        .conn()
        .hget(keys::job(&id), "description")
        .await
        .unwrap();
    assert!(func.contains("nightly"), "{func}");
    let audit = engine::audit::page(&store, 0, 1).await.unwrap();
    assert_eq!(audit.items[0].action, "run-cron");
    assert_eq!(audit.items[0].target, format!("cron py-cron → {id}"));
    let missing = perform(
        &store,
        Action::RunCron {
            name: "nope".into(),
        },
        "tester",
    )
    .await;
    assert_eq!(missing.unwrap_err().kind(), engine::ErrorKind::NotFound);

    rq.0.kill().ok();
    cancel.cancel();
    task.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Kills `rq cron` if an assertion fails first.
struct RqCron(Child);

impl Drop for RqCron {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
