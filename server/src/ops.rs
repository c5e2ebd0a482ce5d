//! One-shot operator commands: enqueue, job, requeue, stop, cancel, delete, suspend, resume,
//! scale, shutdown. Each only translates arguments into an `engine::actions::Action` and its
//! outcome into output: the checks, the call and the audit record (who = `cli:<$USER>`) are
//! the engine's, the same as for the console and the API.

use clap::Args;
use engine::actions::{self, stop::StopOutcome, Action, Outcome};
use engine::enqueue::{NewJob, Retry};
use engine::Store;
use serde_json::{Map, Value};

use crate::process::UsageError;

pub async fn connect(url: &str) -> anyhow::Result<Store> {
    Store::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to Redis at {url}: {e}"))
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:
  taskmill enqueue --queue default taskmill.echo --args '[1, \"x\"]' --kwargs '{\"k\": 2}'
  taskmill enqueue --queue reports reports.build --in 3600 --retry 3 --retry-intervals 10,60,300")]
pub struct EnqueueArgs {
    /// Queue to put the job on (created if new)
    #[arg(long, value_name = "QUEUE")]
    pub queue: String,
    /// Dotted function name, e.g. taskmill.echo
    pub func: String,
    /// JSON array of positional arguments
    #[arg(long, value_name = "JSON_ARRAY")]
    pub args: Option<String>,
    /// JSON object of keyword arguments
    #[arg(long, value_name = "JSON_OBJECT")]
    pub kwargs: Option<String>,
    /// Job id instead of a random UUID ([A-Za-z0-9_-], up to 128)
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Push to the front of the queue instead of the back
    #[arg(long)]
    pub at_front: bool,
    /// Run only after these jobs finished (the job waits as deferred)
    #[arg(long, value_delimiter = ',', value_name = "ID,ID")]
    pub depends_on: Vec<String>,
    /// Schedule this many seconds from now
    #[arg(long = "in", value_name = "SECS")]
    pub in_secs: Option<f64>,
    /// Retries on failure
    #[arg(long, value_name = "N")]
    pub retry: Option<u32>,
    /// Seconds to wait before each retry (needs --retry)
    #[arg(long, value_delimiter = ',', value_name = "SECS,SECS")]
    pub retry_intervals: Vec<u64>,
    /// Seconds the job may run before it is stopped and failed
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<i64>,
    /// Seconds a successful job and its result are kept
    #[arg(long, value_name = "SECS")]
    pub result_ttl: Option<i64>,
    /// Seconds a failed job is kept
    #[arg(long, value_name = "SECS")]
    pub failure_ttl: Option<i64>,
    /// Seconds the job may wait in the queue before it is discarded
    #[arg(long, value_name = "SECS")]
    pub ttl: Option<i64>,
    /// JSON object stored as the job's meta
    #[arg(long, value_name = "JSON_OBJECT")]
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
    let job = Box::new(a.to_job()?);
    if let Outcome::Enqueued { id } = perform(url, Action::Enqueue { job }).await? {
        println!("{id}");
    }
    Ok(())
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Example:\n  taskmill job 4f0c2a0e-8d1b-4c55-9a57-0d4b1f2e3c4d --json")]
pub struct JobArgs {
    /// The job id
    pub id: String,
    /// Print the whole job as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn job(url: &str, a: JobArgs) -> anyhow::Result<()> {
    engine::limits::validate_job_id(&a.id).map_err(|e| UsageError(e.to_string()))?;
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
#[command(
    after_help = "Examples:\n  taskmill requeue 4f0c2a0e-8d1b-4c55-9a57-0d4b1f2e3c4d\n  taskmill requeue --queue default\n  taskmill requeue --all"
)]
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
    let action = if a.all {
        Action::RequeueAll { expected: None }
    } else if let Some(queue) = a.queue {
        Action::RequeueQueue {
            queue,
            expected: None,
        }
    } else {
        Action::Requeue { ids: a.ids }
    };
    print_count(perform(url, action).await?);
    Ok(())
}

pub async fn stop(url: &str, id: &str) -> anyhow::Result<()> {
    let action = Action::Stop { id: id.to_string() };
    match perform(url, action).await? {
        Outcome::Stop(StopOutcome::Sent { worker, receivers }) => {
            println!("stop-job sent to {worker} ({receivers} listening)")
        }
        Outcome::Stop(StopOutcome::NotRunning { status }) => {
            anyhow::bail!("job {id} is not running ({status})")
        }
        other => anyhow::bail!("unexpected outcome {other:?}"),
    }
    Ok(())
}

/// `cancel` and `delete`.
pub async fn jobs(url: &str, action: Action) -> anyhow::Result<()> {
    print_count(perform(url, action).await?);
    Ok(())
}

pub async fn suspend(url: &str, secs: Option<u64>) -> anyhow::Result<()> {
    perform(url, Action::Suspend { secs }).await?;
    println!("suspended");
    Ok(())
}

pub async fn resume(url: &str) -> anyhow::Result<()> {
    perform(url, Action::Resume).await?;
    println!("resumed");
    Ok(())
}

/// `scale` and `shutdown`: prints how many worker processes got the command.
pub async fn command(url: &str, action: Action) -> anyhow::Result<()> {
    print_count(perform(url, action).await?);
    Ok(())
}

/// Connects and performs `action` as `cli:<$USER>` (the audit record's "who").
pub(crate) async fn perform(url: &str, action: Action) -> anyhow::Result<Outcome> {
    action.validate()?;
    let store = connect(url).await?;
    let who = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "?".into())
    );
    Ok(actions::perform(&store, action, &who).await?)
}

/// The outcome's count on stdout (jobs changed, jobs moved, receivers), skipped ids on stderr.
fn print_count(outcome: Outcome) {
    if let Outcome::Jobs(o) = &outcome {
        for s in &o.skipped {
            eprintln!("skipped {}: {}", s.id, s.reason);
        }
    }
    println!("{}", outcome.count());
}
