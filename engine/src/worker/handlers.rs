//! The handler registry: job handlers by function name, async Rust fns over the JSON
//! args/kwargs. A leaf: the sources that fill it live above it and add their own constructors,
//! `Handlers::builtin()` in `builtins` and `Handlers::load_exec_toml()` in `exec`.

use std::collections::HashMap;
use std::future::Future;
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
