//! Celery actions as `/ui/celery-*` server functions: form fields into a `celery-*`
//! `engine::actions::Action`, the outcome (each worker's reply, or "no reply in N ms") into a
//! flash message. Number fields arrive as text so a typo comes back as a clear message instead
//! of a form decoding error.

use leptos::prelude::*;

/// Revoke a task; `terminate` (a checkbox: "on") also kills it if running, with `signal`.
#[server(prefix = "/ui", endpoint = "celery-revoke")]
pub async fn celery_revoke(
    #[server(default)] id: String,
    #[server(default)] terminate: String,
    #[server(default)] signal: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let signal = Some(signal.trim().to_string()).filter(|s| !s.is_empty());
    let action = engine::actions::Action::CeleryRevoke {
        id: id.clone(),
        terminate: !terminate.is_empty(),
        signal,
    };
    ssr::replied(Ok(action), &return_to, format!("Revoke of {id}")).await
}

/// Re-publish a failed task's original message.
#[server(prefix = "/ui", endpoint = "celery-retry")]
pub async fn celery_retry(
    #[server(default)] id: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let action = engine::actions::Action::CeleryRetry { id: id.clone() };
    ssr::replied(Ok(action), &return_to, format!("Retry of {id}")).await
}

/// Grow (`op` = grow) or shrink (`op` = shrink) a worker's pool by `n` processes (default 1).
#[server(prefix = "/ui", endpoint = "celery-pool")]
pub async fn celery_pool(
    #[server(default)] worker: String,
    #[server(default)] op: String,
    #[server(default)] n: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use crate::error::PageError;
    use engine::actions::Action;
    let action = crate::actions::number("The process count", &n).and_then(|n| {
        let (worker, n) = (worker.clone(), n.unwrap_or(1));
        match op.as_str() {
            "grow" => Ok(Action::CeleryPoolGrow { worker, n }),
            "shrink" => Ok(Action::CeleryPoolShrink { worker, n }),
            _ => Err(PageError::BadRequest("Choose grow or shrink.".into())),
        }
    });
    ssr::replied(action, &return_to, format!("Pool {op} of {worker}")).await
}

/// Set a worker's autoscaler bounds (`max`, `min` processes).
#[server(prefix = "/ui", endpoint = "celery-autoscale")]
pub async fn celery_autoscale(
    #[server(default)] worker: String,
    #[server(default)] max: String,
    #[server(default)] min: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use crate::error::PageError;
    let number = crate::actions::number;
    let action = match (number("Max", &max), number("Min", &min)) {
        (Ok(Some(max)), Ok(min)) => Ok(engine::actions::Action::CeleryAutoscale {
            worker: worker.clone(),
            max,
            min: min.unwrap_or(0),
        }),
        (Ok(None), Ok(_)) => Err(PageError::BadRequest("Enter a max process count.".into())),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let what = format!("Autoscale of {worker} to {}..{}", min.trim(), max.trim());
    ssr::replied(action, &return_to, what).await
}

/// Set a task's rate limit on one worker (`rate`: N, N/s, N/m or N/h; 0 = none).
#[server(prefix = "/ui", endpoint = "celery-rate-limit")]
pub async fn celery_rate_limit(
    #[server(default)] worker: String,
    #[server(default)] task: String,
    #[server(default)] rate: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let (task, rate) = (task.trim().to_string(), rate.trim().to_string());
    let what = format!("Rate limit {rate} for {task} on {worker}");
    let action = engine::actions::Action::CeleryRateLimit { worker, task, rate };
    ssr::replied(Ok(action), &return_to, what).await
}

/// Set a task's soft and / or hard time limit (seconds; empty = unchanged) on one worker.
#[server(prefix = "/ui", endpoint = "celery-time-limit")]
pub async fn celery_time_limit(
    #[server(default)] worker: String,
    #[server(default)] task: String,
    #[server(default)] soft: String,
    #[server(default)] hard: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let task = task.trim().to_string();
    let what = format!("Time limit for {task} on {worker}");
    let action = match (ssr::seconds("Soft", &soft), ssr::seconds("Hard", &hard)) {
        (Ok(soft), Ok(hard)) => Ok(engine::actions::Action::CeleryTimeLimit {
            worker,
            task,
            soft,
            hard,
        }),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    ssr::replied(action, &return_to, what).await
}

/// Start (`op` = add) or stop (`op` = cancel) consuming from `queue` on one worker.
#[server(prefix = "/ui", endpoint = "celery-consumer")]
pub async fn celery_consumer(
    #[server(default)] worker: String,
    #[server(default)] op: String,
    #[server(default)] queue: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    use crate::error::PageError;
    use engine::actions::Action;
    let queue = queue.trim().to_string();
    let what = format!("{} consumer {queue} on {worker}", ssr::capital(&op));
    let action = match op.as_str() {
        "add" => Ok(Action::CeleryAddConsumer { worker, queue }),
        "cancel" => Ok(Action::CeleryCancelConsumer { worker, queue }),
        _ => Err(PageError::BadRequest("Choose add or cancel.".into())),
    };
    ssr::replied(action, &return_to, what).await
}

/// Restart a worker's pool processes (the worker must run with `worker_pool_restarts`).
#[server(prefix = "/ui", endpoint = "celery-pool-restart")]
pub async fn celery_pool_restart(
    #[server(default)] worker: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let what = format!("Pool restart of {worker}");
    let action = engine::actions::Action::CeleryPoolRestart { worker };
    ssr::replied(Ok(action), &return_to, what).await
}

/// Warm shutdown of a Celery worker.
#[server(prefix = "/ui", endpoint = "celery-shutdown")]
pub async fn celery_shutdown(
    #[server(default)] worker: String,
    #[server(default)] return_to: String,
) -> Result<(), ServerFnError> {
    let action = engine::actions::Action::CeleryShutdown {
        worker: worker.clone(),
    };
    ssr::replied(Ok(action), &return_to, format!("Shutdown of {worker}")).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use engine::actions::{Action, Outcome};
    use leptos::prelude::*;
    use serde_json::Value;

    use crate::error::PageError;

    /// Runs `action`; the flash lists each worker's reply. When every reply is Celery's
    /// `{"error": ...}` the flash is an error (409): the worker refused.
    pub(super) async fn replied(
        action: Result<Action, PageError>,
        return_to: &str,
        what: String,
    ) -> Result<(), ServerFnError> {
        crate::actions::act(action, return_to, move |o| match o {
            Outcome::Replies { replies } => {
                let each: Vec<String> = replies
                    .iter()
                    .map(|(node, r)| format!("{node}: {}", reply_text(r)))
                    .collect();
                let text = format!("{what}: {}", each.join("; "));
                let refused =
                    !replies.is_empty() && replies.values().all(|r| r.get("error").is_some());
                if refused {
                    Err(PageError::Conflict(text))
                } else {
                    Ok(text)
                }
            }
            Outcome::Sent { receivers: 0 } => Ok(format!(
                "{what} sent, but nobody is listening on the pidbox (the worker may be gone)."
            )),
            Outcome::Sent { receivers } => Ok(format!("{what} sent ({receivers} listening).")),
            Outcome::Enqueued { id } => Ok(format!("{what}: {id} re-published.")),
            _ => Ok(format!("{what} done.")),
        })
        .await
    }

    /// Celery's replies are `{"ok": text}` or `{"error": text}`; anything else as JSON.
    pub(super) fn reply_text(r: &Value) -> String {
        match (r.get("ok"), r.get("error")) {
            (Some(Value::String(ok)), None) => ok.clone(),
            (None, Some(Value::String(e))) => format!("error: {e}"),
            _ => r.to_string(),
        }
    }

    /// Seconds typed into a form field (empty = `None`).
    pub(super) fn seconds(field: &str, text: &str) -> Result<Option<f64>, PageError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(PageError::BadRequest(format!(
                "{field} must be a number of seconds, not {text:?}."
            ))),
        }
    }

    pub(super) fn capital(op: &str) -> String {
        let mut c = op.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn replies_and_fields() {
            assert_eq!(
                reply_text(&serde_json::json!({"ok": "pool will grow"})),
                "pool will grow"
            );
            assert_eq!(
                reply_text(&serde_json::json!({"error": "unknown task"})),
                "error: unknown task"
            );
            assert_eq!(reply_text(&serde_json::json!([1])), "[1]");
            assert_eq!(seconds("Soft", " 2.5 ").unwrap(), Some(2.5));
            assert_eq!(seconds("Soft", "").unwrap(), None);
            assert!(seconds("Soft", "NaN").is_err());
            assert!(seconds("Soft", "ten").is_err());
            assert_eq!(capital("add"), "Add");
        }
    }
}
