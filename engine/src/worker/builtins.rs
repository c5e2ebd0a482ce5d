//! Built-in handlers every Taskmill worker knows: `taskmill.echo`, `taskmill.sleep`,
//! `taskmill.fail`, `taskmill.span`. They make demos and end-to-end tests possible without user
//! code (`taskmill.span` returns when it ran, so tests can measure overlap across processes).

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::handlers::{Handlers, JobError};

/// Longest `taskmill.sleep` accepted; the job timeout still applies on top.
const MAX_SLEEP_SECS: f64 = 86_400.0;

impl Handlers {
    /// The built-ins: `taskmill.echo` (returns `{"args": [...], "kwargs": {...}}`),
    /// `taskmill.sleep` (seconds as first arg or `seconds=`; returns the seconds) and
    /// `taskmill.fail` (fails with the message as the traceback), `taskmill.span` (sleeps like
    /// `taskmill.sleep`; returns `{"start", "end"}` in unix seconds).
    pub fn builtin() -> Handlers {
        let mut h = Handlers::new();
        register(&mut h);
        h
    }
}

fn register(h: &mut Handlers) {
    h.register("taskmill.echo", |args, kwargs| async move {
        Ok(echo(args, kwargs))
    });
    h.register("taskmill.sleep", |args, kwargs| async move {
        let secs = sleep_secs(&args, &kwargs)?;
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        Ok(json!(secs))
    });
    h.register("taskmill.span", |args, kwargs| async move {
        let secs = sleep_secs(&args, &kwargs)?;
        let start = crate::time::now();
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        Ok(json!({"start": start, "end": crate::time::now()}))
    });
    h.register("taskmill.fail", |args, kwargs| async move {
        Err(JobError {
            traceback: fail_message(&args, &kwargs),
        })
    });
}

fn echo(args: Vec<Value>, kwargs: Map<String, Value>) -> Value {
    json!({"args": args, "kwargs": kwargs})
}

fn sleep_secs(args: &[Value], kwargs: &Map<String, Value>) -> Result<f64, JobError> {
    let v = args.first().or_else(|| kwargs.get("seconds"));
    match v.and_then(Value::as_f64) {
        Some(s) if s.is_finite() && (0.0..=MAX_SLEEP_SECS).contains(&s) => Ok(s),
        _ => Err(JobError {
            traceback: format!(
                "TypeError: taskmill.sleep expects seconds between 0 and {MAX_SLEEP_SECS}, got {}",
                v.map(Value::to_string).unwrap_or_else(|| "nothing".into())
            ),
        }),
    }
}

fn fail_message(args: &[Value], kwargs: &Map<String, Value>) -> String {
    match args.first().or_else(|| kwargs.get("message")) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "taskmill.fail called".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_argument_handling() {
        assert_eq!(
            echo(vec![json!(1)], Map::new()),
            json!({"args": [1], "kwargs": {}})
        );
        assert_eq!(sleep_secs(&[json!(0.5)], &Map::new()).unwrap(), 0.5);
        assert!(sleep_secs(&[json!("x")], &Map::new()).is_err());
        assert!(sleep_secs(&[json!(-1)], &Map::new()).is_err());
        assert_eq!(fail_message(&[json!("boom")], &Map::new()), "boom");
        assert_eq!(fail_message(&[], &Map::new()), "taskmill.fail called");
    }
}
