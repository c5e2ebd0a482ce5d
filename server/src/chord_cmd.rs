//! `taskmill chord`: create a chord (an RQ group whose callback is enqueued once every member
//! has ended) from existing jobs and/or new ones, and show one's progress. Creation is the
//! `create-chord` action, like `POST /api/v1/groups`.

use clap::{Args, Subcommand};
use engine::actions::{Action, Outcome};
use engine::chord::{NewChord, Policy};
use engine::enqueue::NewJob;
use serde_json::{Map, Value};

use crate::process::UsageError;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  taskmill chord create --queue llm --func llm.summarize_page --each '[[1],[2],[3]]' \\
      --callback reports.combine --callback-queue default
  taskmill chord create --jobs job-1,job-2 --callback reports.combine --on-failure always
  taskmill chord show 3f2a9c0d1e4b4a5f9e8d7c6b5a4f3e2d")]
pub struct ChordArgs {
    #[command(subcommand)]
    pub cmd: ChordCmd,
}

#[derive(Subcommand, Debug)]
pub enum ChordCmd {
    /// Create a chord; prints its name (or the whole record with --json)
    Create(Box<CreateArgs>),
    /// Show a chord's progress and members
    Show {
        /// The group name
        name: String,
        /// Print the record as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Group name ([A-Za-z0-9_-], up to 128); a uuid4 hex when omitted
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Existing jobs to make members
    #[arg(long, value_delimiter = ',', value_name = "ID,ID")]
    pub jobs: Vec<String>,
    /// Queue of the new member jobs (with --func and --each)
    #[arg(long, value_name = "QUEUE", requires = "func")]
    pub queue: Option<String>,
    /// Function of the new member jobs
    #[arg(long, value_name = "FUNC", requires = "queue")]
    pub func: Option<String>,
    /// JSON array: one new member per element, each element that member's positional args
    #[arg(long, value_name = "JSON", requires = "func")]
    pub each: Option<String>,
    /// The callback's function; called with the chord summary as its first argument
    #[arg(long, value_name = "FUNC")]
    pub callback: String,
    /// The callback's queue [default: the members' --queue, else "default"]
    #[arg(long, value_name = "QUEUE")]
    pub callback_queue: Option<String>,
    /// JSON array of further positional arguments for the callback
    #[arg(long, value_name = "JSON_ARRAY")]
    pub callback_args: Option<String>,
    /// JSON object of keyword arguments for the callback
    #[arg(long, value_name = "JSON_OBJECT")]
    pub callback_kwargs: Option<String>,
    /// When a member fails for good: `fail` (no callback, chord failed) or `always`
    #[arg(long, default_value = "fail", value_name = "POLICY")]
    pub on_failure: String,
    /// Print the created record as JSON
    #[arg(long)]
    pub json: bool,
}

fn json_arg<T: serde::de::DeserializeOwned>(flag: &str, text: &str) -> Result<T, UsageError> {
    serde_json::from_str(text).map_err(|e| UsageError(format!("--{flag}: {e}")))
}

impl CreateArgs {
    pub fn to_chord(&self) -> Result<NewChord, UsageError> {
        let mut enqueue = Vec::new();
        if let (Some(q), Some(f)) = (&self.queue, &self.func) {
            let each: Vec<Value> = match &self.each {
                Some(t) => json_arg("each", t)?,
                None => vec![Value::Array(Vec::new())],
            };
            for (i, a) in each.into_iter().enumerate() {
                let Value::Array(args) = a else {
                    return Err(UsageError(format!(
                        "--each: element {i} is not a JSON array of arguments"
                    )));
                };
                enqueue.push(NewJob::new(q.clone(), f.clone()).args(args));
            }
        }
        if enqueue.is_empty() && self.jobs.is_empty() {
            return Err(UsageError(
                "give members: --jobs ID,ID and/or --queue Q --func F [--each JSON]".into(),
            ));
        }
        let queue = self
            .callback_queue
            .clone()
            .or_else(|| self.queue.clone())
            .unwrap_or_else(|| "default".into());
        let args: Vec<Value> = match &self.callback_args {
            Some(t) => json_arg("callback-args", t)?,
            None => Vec::new(),
        };
        let kwargs: Map<String, Value> = match &self.callback_kwargs {
            Some(t) => json_arg("callback-kwargs", t)?,
            None => Map::new(),
        };
        let on_failure = Policy::parse(&self.on_failure)
            .map_err(|e| UsageError(format!("--on-failure: {e}")))?;
        Ok(NewChord {
            name: self.name.clone(),
            jobs: self.jobs.clone(),
            enqueue,
            callback: NewJob::new(queue, self.callback.clone())
                .args(args)
                .kwargs(kwargs),
            on_failure,
        })
    }
}

pub async fn run(redis: &crate::redis_args::Redis, a: ChordArgs) -> anyhow::Result<()> {
    match a.cmd {
        ChordCmd::Create(c) => {
            let chord = c.to_chord()?;
            let out = crate::ops::perform(
                redis,
                Action::CreateChord {
                    chord: Box::new(chord),
                },
            )
            .await?;
            if let Outcome::Chord(created) = out {
                if c.json {
                    println!("{}", serde_json::to_string_pretty(&created)?);
                } else {
                    println!("{}", created.name);
                }
            }
            Ok(())
        }
        ChordCmd::Show { name, json } => {
            engine::limits::validate_group_name(&name)?;
            let store = redis.connect().await?;
            let Some(v) = engine::chord::get(&store, &name).await? else {
                anyhow::bail!("no group named {name:?}");
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(());
            }
            println!("group:    {}", v.name);
            println!("status:   {} (policy {})", v.status, v.policy);
            println!(
                "progress: {}/{} ended, {} failed",
                v.ended, v.total, v.failed
            );
            println!(
                "callback: {} on {} ({})",
                v.callback_func, v.callback_queue, v.callback_id
            );
            for m in &v.members {
                println!("  {}  {}", m.id, m.status);
            }
            Ok(())
        }
    }
}
