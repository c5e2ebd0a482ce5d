//! One-shot operator commands: enqueue, job, requeue, stop, cancel, delete, suspend, resume,
//! scale, shutdown. Actions leave the same audit records as the console, with who =
//! `cli:<$USER>`.

use clap::Args;
use engine::actions::{self, stop::StopOutcome, Outcome};
use engine::enqueue::{NewJob, Retry};
use engine::model::AuditEntry;
use engine::Store;
use serde_json::{Map, Value};

use crate::cli::UsageError;

pub async fn connect(url: &str) -> anyhow::Result<Store> {
    Store::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to Redis at {url}: {e}"))
}

async fn audit(store: &Store, action: &str, target: &str, count: u64) {
    let user = std::env::var("USER").unwrap_or_else(|_| "?".into());
    let entry = AuditEntry {
        at: engine::time::now(),
        who: format!("cli:{user}"),
        action: action.into(),
        target: target.into(),
        count,
    };
    if let Err(e) = engine::audit::record(store, &entry).await {
        tracing::warn!(error = %e, "audit record failed");
    }
}

#[derive(Args, Debug, Clone)]
pub struct EnqueueArgs {
    #[arg(long)]
    pub queue: String,
    /// Dotted function name, e.g. taskmill.echo
    pub func: String,
    /// JSON array of positional arguments
    #[arg(long)]
    pub args: Option<String>,
    /// JSON object of keyword arguments
    #[arg(long)]
    pub kwargs: Option<String>,
    #[arg(long)]
    pub id: Option<String>,
    #[arg(long)]
    pub at_front: bool,
    #[arg(long, value_delimiter = ',')]
    pub depends_on: Vec<String>,
    /// Schedule this many seconds from now
    #[arg(long = "in", value_name = "SECS")]
    pub in_secs: Option<f64>,
    /// Retries on failure
    #[arg(long)]
    pub retry: Option<u32>,
    #[arg(long, value_delimiter = ',')]
    pub retry_intervals: Vec<u64>,
    #[arg(long)]
    pub timeout: Option<i64>,
    #[arg(long)]
    pub result_ttl: Option<i64>,
    #[arg(long)]
    pub failure_ttl: Option<i64>,
    #[arg(long)]
    pub ttl: Option<i64>,
    /// JSON object stored as the job's meta
    #[arg(long)]
    pub meta: Option<String>,
}

fn parse_json<T: serde::de::DeserializeOwned>(flag: &str, text: &str) -> Result<T, UsageError> {
    serde_json::from_str(text).map_err(|e| UsageError(format!("--{flag}: {e}")))
}

impl EnqueueArgs {
    pub fn to_job(&self) -> Result<NewJob, UsageError> {
        let args: Vec<Value> = match &self.args {
            Some(t) => parse_json("args", t)?,
            None => Vec::new(),
        };
        let kwargs: Map<String, Value> = match &self.kwargs {
            Some(t) => parse_json("kwargs", t)?,
            None => Map::new(),
        };
        let mut job = NewJob::new(&self.queue, &self.func)
            .args(args)
            .kwargs(kwargs);
        job.id = self.id.clone();
        job.at_front = self.at_front;
        job.depends_on = self.depends_on.clone();
        job.timeout = self.timeout;
        job.result_ttl = self.result_ttl;
        job.failure_ttl = self.failure_ttl;
        job.ttl = self.ttl;
        job.meta = match &self.meta {
            Some(t) => Some(parse_json("meta", t)?),
            None => None,
        };
        if let Some(max) = self.retry {
            job.retry = Some(Retry {
                max,
                intervals: self.retry_intervals.clone(),
            });
        } else if !self.retry_intervals.is_empty() {
            return Err(UsageError("--retry-intervals needs --retry N".into()));
        }
        if let Some(secs) = self.in_secs {
            if !secs.is_finite() || secs < 0.0 {
                return Err(UsageError("--in must be a non-negative number".into()));
            }
            job.schedule_at = Some(engine::time::now() + secs);
        }
        Ok(job)
    }
}

pub async fn enqueue(url: &str, a: EnqueueArgs) -> anyhow::Result<()> {
    let job = a.to_job()?;
    let store = connect(url).await?;
    let id = engine::enqueue::enqueue(&store, job).await?;
    audit(&store, "enqueue", &id, 1).await;
    println!("{id}");
    Ok(())
}

#[derive(Args, Debug, Clone)]
pub struct JobArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

pub async fn job(url: &str, a: JobArgs) -> anyhow::Result<()> {
    engine::error::validate_job_id(&a.id).map_err(|e| UsageError(e.to_string()))?;
    let store = connect(url).await?;
    let Some(d) = engine::job::fetch(&store, &a.id).await? else {
        anyhow::bail!("no job {}", a.id);
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(());
    }
    let s = &d.summary;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let time = |t: Option<f64>| t.map(engine::time::format_rq).unwrap_or_else(|| "-".into());
    println!("id:          {}", s.id);
    println!(
        "status:      {}",
        s.status.as_ref().map_or("-", |st| st.as_str())
    );
    println!("queue:       {}", opt(&s.origin));
    println!("function:    {}", opt(&s.func_name));
    println!("description: {}", opt(&s.description));
    println!("created:     {}", time(s.created_at));
    println!("enqueued:    {}", time(s.enqueued_at));
    println!("started:     {}", time(s.started_at));
    println!("ended:       {}", time(s.ended_at));
    println!("worker:      {}", opt(&s.worker_name));
    if !d.dependency_ids.is_empty() {
        println!("depends on:  {}", d.dependency_ids.join(", "));
    }
    if let Some(r) = d.retries_left {
        println!("retries left: {r}");
    }
    if let Some(p) = &s.problem {
        println!("problem:     {p}");
    }
    if let Some(exc) = d.results.iter().find_map(|r| r.exc_string.as_ref()) {
        println!("\nlatest failure:\n{exc}");
    }
    Ok(())
}

#[derive(Args, Debug, Clone)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["ids", "queue", "all"]))]
pub struct RequeueArgs {
    /// Failed job ids
    pub ids: Vec<String>,
    /// Every failed job of this queue
    #[arg(long)]
    pub queue: Option<String>,
    /// Every failed job of every queue
    #[arg(long)]
    pub all: bool,
}

pub async fn requeue(url: &str, a: RequeueArgs) -> anyhow::Result<()> {
    let store = connect(url).await?;
    let (n, target) = if a.all {
        (
            actions::requeue::requeue_all(&store).await?,
            "*".to_string(),
        )
    } else if let Some(q) = &a.queue {
        (actions::requeue::requeue_queue(&store, q).await?, q.clone())
    } else {
        let out = actions::requeue::requeue(&store, &a.ids).await?;
        report_skipped(&out);
        (out.count(), a.ids.join(","))
    };
    audit(&store, "requeue", &target, n).await;
    println!("{n}");
    Ok(())
}

fn report_skipped(out: &Outcome) {
    for s in &out.skipped {
        eprintln!("skipped {}: {}", s.id, s.reason);
    }
}

pub async fn stop(url: &str, id: &str) -> anyhow::Result<()> {
    let store = connect(url).await?;
    let out = actions::stop::stop(&store, id).await?;
    let sent = matches!(out, StopOutcome::Sent { .. });
    audit(&store, "stop", id, u64::from(sent)).await;
    match out {
        StopOutcome::Sent { worker, receivers } => {
            println!("stop-job sent to {worker} ({receivers} listening)")
        }
        StopOutcome::NotRunning { status } => anyhow::bail!("job {id} is not running ({status})"),
        StopOutcome::NotFound => anyhow::bail!("no job {id}"),
    }
    Ok(())
}

#[derive(Clone, Copy)]
pub enum Bulk {
    Cancel,
    Delete,
}

pub async fn bulk(url: &str, which: Bulk, ids: Vec<String>) -> anyhow::Result<()> {
    let store = connect(url).await?;
    let (name, out) = match which {
        Bulk::Cancel => ("cancel", actions::cancel::cancel(&store, &ids).await?),
        Bulk::Delete => ("delete", actions::delete::delete(&store, &ids).await?),
    };
    audit(&store, name, &ids.join(","), out.count()).await;
    report_skipped(&out);
    println!("{}", out.count());
    Ok(())
}

pub async fn suspend(url: &str, duration: Option<u64>) -> anyhow::Result<()> {
    let store = connect(url).await?;
    actions::suspend::suspend(&store, duration).await?;
    audit(&store, "suspend", "all workers", 1).await;
    println!("suspended");
    Ok(())
}

pub async fn resume(url: &str) -> anyhow::Result<()> {
    let store = connect(url).await?;
    actions::suspend::resume(&store).await?;
    audit(&store, "resume", "all workers", 1).await;
    println!("resumed");
    Ok(())
}

pub async fn scale(url: &str, worker: &str, slots: u64) -> anyhow::Result<()> {
    if slots == 0 || slots > actions::scale::MAX_SLOTS {
        return Err(UsageError(format!(
            "slots must be between 1 and {}",
            actions::scale::MAX_SLOTS
        ))
        .into());
    }
    let store = connect(url).await?;
    let n = actions::scale::scale(&store, worker, slots).await?;
    audit(&store, "scale", &format!("{worker} → {slots}"), n).await;
    println!("{n}");
    Ok(())
}

pub async fn shutdown(url: &str, worker: &str) -> anyhow::Result<()> {
    let store = connect(url).await?;
    let n = actions::shutdown::shutdown(&store, worker).await?;
    audit(&store, "shutdown", worker, n).await;
    println!("{n}");
    Ok(())
}
