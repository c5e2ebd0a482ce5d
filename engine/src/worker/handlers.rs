//! Job handlers registered by function name: async Rust fns over the JSON args/kwargs, the
//! built-ins (`taskmill.echo`, `taskmill.sleep`, `taskmill.fail`), and exec handlers declared
//! in TOML (child process, JSON on stdin/stdout).

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Map, Value};

/// A handler's failure: shown as the job's traceback (`exc_string`).
#[derive(Clone, Debug)]
pub struct JobError {
    pub traceback: String,
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, JobError>> + Send>>;
pub type HandlerFn = Arc<dyn Fn(Vec<Value>, Map<String, Value>) -> HandlerFuture + Send + Sync>;

#[derive(Clone, Default)]
pub struct Handlers {
    map: HashMap<String, HandlerFn>,
}

impl Handlers {
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// The built-ins: `taskmill.echo` (returns `{"args": [...], "kwargs": {...}}`),
    /// `taskmill.sleep` (seconds as first arg or `seconds=`; returns the seconds) and
    /// `taskmill.fail` (fails with the message as the traceback).
    pub fn builtin() -> Handlers {
        let mut h = Handlers::new();
        super::builtins::register(&mut h);
        h
    }

    /// Exec handlers from a TOML file (see `worker::exec` for the format).
    pub fn load_exec_toml(path: impl AsRef<Path>) -> crate::Result<Handlers> {
        super::exec::load(path.as_ref())
    }

    /// Adds every handler of `other`, replacing same-named ones.
    pub fn extend(&mut self, other: Handlers) -> &mut Handlers {
        self.map.extend(other.map);
        self
    }

    pub fn register<F, Fut>(&mut self, name: &str, f: F) -> &mut Handlers
    where
        F: Fn(Vec<Value>, Map<String, Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, JobError>> + Send + 'static,
    {
        self.map
            .insert(name.to_string(), Arc::new(move |a, k| Box::pin(f(a, k))));
        self
    }

    pub fn get(&self, name: &str) -> Option<HandlerFn> {
        self.map.get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map.keys().cloned().collect();
        v.sort();
        v
    }
}
