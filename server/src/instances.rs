//! Several Redis instances in one console (`--redis NAME=URL`, repeated).
//!
//! Each instance gets a complete console of its own (`serve::router_scoped`: pages, `/ui`
//! server functions, `/api/v1`, `/metrics`, all behind the same security layers), and one
//! dispatcher in front picks it by path: `/i/NAME/...` is instance NAME with `/i/NAME` taken
//! off the path, anything else is the default (first) instance. So every route is scoped by
//! instance without any route knowing about instances, and an unreachable instance only ever
//! affects its own pages.
//!
//! `/metrics` (unscoped) reports every instance with an `instance` label, each read under its
//! own deadline; `/i/NAME/metrics` reports NAME only (labelled too).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use app::state::{Console, Fleet, Here};
use app::url::Base;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

use crate::serve::{router_scoped, Scope, ServeConfig};

/// Longest instance name (it becomes a path segment and a label value).
const MAX_NAME: usize = 32;

/// `NAME=URL` → (NAME, URL) when the part before `=` is an instance name (a plain URL has
/// `://` before any `=`, so it never parses as named).
pub fn split_named(arg: &str) -> Option<(&str, &str)> {
    let (name, url) = arg.split_once('=')?;
    valid_name(name).then_some((name, url))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks `--redis` values: one plain URL, or every one `NAME=URL` with distinct names.
/// Returns the (name, URL) pairs; a single plain URL is the instance `default`.
pub fn parse(values: &[String]) -> Result<Vec<(String, String)>, String> {
    if let [one] = values {
        if split_named(one).is_none() {
            return Ok(vec![("default".into(), one.clone())]);
        }
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for v in values {
        let (name, url) = split_named(v).ok_or_else(|| {
            format!(
                "--redis {v:?}: with several Redis instances give each as NAME=URL \
                 (NAME: letters, digits, - and _, at most {MAX_NAME})"
            )
        })?;
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!(
                "--redis: the instance name {name:?} is given twice"
            ));
        }
        out.push((name.to_string(), url.to_string()));
    }
    Ok(out)
}

/// The console for several instances: the dispatcher over one router per instance.
pub fn router(fleet: &[(String, Arc<Console>)], cfg: ServeConfig) -> Router {
    let root = cfg.base.clone();
    let names = Arc::new(fleet.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
    let shared = Arc::new(Fleet {
        instances: fleet.to_vec(),
    });
    let routers: HashMap<String, Router> = fleet
        .iter()
        .enumerate()
        .map(|(i, (name, console))| {
            let scope = Scope {
                fleet: shared.clone(),
                here: Here {
                    name: name.clone(),
                    names: names.clone(),
                    root: root.as_str().to_string(),
                },
                all_metrics: i == 0,
            };
            let r = router_scoped(console.clone(), cfg.clone(), Some(scope));
            (name.clone(), r)
        })
        .collect();
    let routers = Arc::new(routers);
    let default = names[0].clone();
    let svc = tower::service_fn(move |req: Request| {
        let routers = routers.clone();
        let default = default.clone();
        async move {
            let (name, req) = match scoped(&req) {
                Some((name, rest)) => {
                    let name = name.to_string();
                    let mut req = req;
                    if !crate::prefix::reroute(&mut req, &rest) {
                        return Ok(
                            crate::error::ApiError::bad_request("unreadable request path")
                                .into_response(),
                        );
                    }
                    // Links on this instance's pages keep `/i/NAME` (after any prefix).
                    let root = req.extensions().get::<Base>().cloned().unwrap_or_default();
                    if let Ok(b) = Base::parse(&format!("{}/i/{name}", root.as_str())) {
                        req.extensions_mut().insert(b);
                    }
                    (name, req)
                }
                None => (default, req),
            };
            match routers.get(&name) {
                Some(r) => r.clone().oneshot(req).await,
                None => Ok::<_, Infallible>(unknown_instance(&name)),
            }
        }
    });
    // The prefix is cut first, then the instance.
    crate::serve::with_prefix(Router::new().fallback_service(svc), root)
}

/// `/i/NAME/rest?q` → (NAME, `/rest?q`); `/i/NAME` → (NAME, `/`).
fn scoped(req: &Request) -> Option<(&str, String)> {
    let path = req.uri().path();
    let rest = path.strip_prefix("/i/")?;
    let (name, tail) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    Some((name, format!("{tail}{query}")))
}

fn unknown_instance(name: &str) -> Response {
    let e = crate::error::ApiError::new(
        crate::error::ErrorCode::NotFound,
        format!("no Redis instance named {name:?} in this console"),
    );
    e.into_response()
}

/// How long one instance may take for its part of a scrape.
const SCRAPE_DEADLINE: Duration = Duration::from_secs(5);

/// `/metrics` of a console with several instances: every instance's families, each sample
/// labelled with its `instance` (read concurrently, each under its own deadline; an instance
/// that does not answer reports `taskmill_redis_up 0`).
pub async fn metrics(State(fleet): State<Arc<Fleet>>) -> Response {
    let bodies = futures::future::join_all(fleet.instances.iter().map(|(name, c)| async move {
        let started = std::time::Instant::now();
        let body = match tokio::time::timeout(SCRAPE_DEADLINE, crate::metrics::body(c)).await {
            Ok(b) => b,
            Err(_) => crate::metrics::render(None, started.elapsed().as_secs_f64()),
        };
        (name.as_str(), body)
    }))
    .await;
    crate::metrics::respond(merge(&bodies))
}

/// Merges exposition texts into one, each family once (its HELP / TYPE from the first text
/// that has it, then the samples of every text in order), every sample with `instance="NAME"`
/// first among its labels.
pub fn merge(bodies: &[(&str, String)]) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut families: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for (name, body) in bodies {
        let mut current = String::new();
        for line in body.lines() {
            if let Some(rest) = line
                .strip_prefix("# HELP ")
                .or_else(|| line.strip_prefix("# TYPE "))
            {
                current = rest.split(' ').next().unwrap_or("").to_string();
                let f = families.entry(current.clone()).or_insert_with(|| {
                    order.push(current.clone());
                    Default::default()
                });
                // Headers of a family come from the first body that has it.
                if f.1.is_empty() && !f.0.iter().any(|h| h == line) {
                    f.0.push(line.to_string());
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f = families.entry(current.clone()).or_insert_with(|| {
                order.push(current.clone());
                Default::default()
            });
            f.1.push(labelled(line, name));
        }
    }
    let mut out = String::new();
    for name in order {
        if let Some((headers, samples)) = families.get(&name) {
            for l in headers.iter().chain(samples) {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    out
}

/// `name{a="b"} 1` → `name{instance="I",a="b"} 1`; `name 1` → `name{instance="I"} 1`.
fn labelled(sample: &str, instance: &str) -> String {
    // Instance names are [A-Za-z0-9_-]: nothing to escape.
    let end = sample.find(['{', ' ']).unwrap_or(sample.len());
    let (metric, rest) = sample.split_at(end);
    match rest.strip_prefix('{') {
        Some(labels) if labels.starts_with('}') => {
            format!("{metric}{{instance=\"{instance}\"{labels}")
        }
        Some(labels) => format!("{metric}{{instance=\"{instance}\",{labels}"),
        None => format!("{metric}{{instance=\"{instance}\"}}{rest}"),
    }
}

/// One instance in `GET /api/v1/instances`.
#[derive(serde::Serialize, Debug, utoipa::ToSchema)]
pub struct InstanceView {
    pub name: String,
    /// The default instance: its routes are also served without `/i/NAME`.
    pub default: bool,
    /// Where its routes are: `/i/NAME`.
    pub path: String,
    pub reachable: bool,
    /// Why its Redis could not be read (within 2 s), when it could not.
    pub error: Option<String>,
    pub queues: Option<u64>,
    pub queued: Option<u64>,
    pub started: Option<u64>,
    pub failed: Option<u64>,
    pub workers: Option<u64>,
}

/// `GET /api/v1/instances`: every instance's totals or why they could not be read (each read
/// concurrently under its own deadline, like the `/instances` page).
#[utoipa::path(get, path = "/api/v1/instances", tag = "reads",
    responses((status = 200, description = "The console's Redis instances, the default first", body = [InstanceView])))]
pub async fn api(State(fleet): State<Arc<Fleet>>) -> axum::Json<Vec<InstanceView>> {
    let reads = fleet.read_all().await;
    let views = reads.into_iter().enumerate().map(|(i, (name, read))| {
        let snap = read.as_ref().ok();
        InstanceView {
            default: i == 0,
            path: format!("/i/{name}"),
            reachable: snap.is_some(),
            error: read.as_ref().err().cloned(),
            queues: snap.map(|s| s.queues.len() as u64),
            queued: snap.map(|s| s.totals.queued),
            started: snap.map(|s| s.totals.started),
            failed: snap.map(|s| s.totals.failed),
            workers: snap.map(|s| s.workers.len() as u64),
            name,
        }
    });
    axum::Json(views.collect())
}

/// The `/i/NAME/metrics` of one instance: its own families, labelled.
pub async fn metrics_one(State(one): State<(String, Arc<Console>)>) -> Response {
    let body = crate::metrics::body(&one.1).await;
    crate::metrics::respond(merge(&[(one.0.as_str(), body)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls() {
        assert_eq!(split_named("a=redis://h:1"), Some(("a", "redis://h:1")));
        assert_eq!(split_named("redis://h:1/0?x=y"), None);
        assert_eq!(
            split_named("prod-eu_1=rediss://u:p@h"),
            Some(("prod-eu_1", "rediss://u:p@h"))
        );
        assert_eq!(split_named("a b=redis://h"), None);
        let one = parse(&["redis://h:1".into()]).unwrap();
        assert_eq!(
            one,
            vec![("default".to_string(), "redis://h:1".to_string())]
        );
        let two = parse(&["a=redis://h:1".into(), "b=redis://h:2".into()]).unwrap();
        assert_eq!(two[1], ("b".to_string(), "redis://h:2".to_string()));
        assert!(parse(&["a=redis://h:1".into(), "redis://h:2".into()]).is_err());
        assert!(parse(&["a=redis://h:1".into(), "a=redis://h:2".into()]).is_err());
    }

    #[test]
    fn merge_labels_every_sample_and_keeps_families_whole() {
        let a = "# HELP rq_jobs RQ jobs\n# TYPE rq_jobs gauge\nrq_jobs{queue=\"q\",status=\"queued\"} 3\n# HELP taskmill_redis_up up\n# TYPE taskmill_redis_up gauge\ntaskmill_redis_up 1\n";
        let b =
            "# HELP taskmill_redis_up up\n# TYPE taskmill_redis_up gauge\ntaskmill_redis_up 0\n";
        let out = merge(&[("a", a.into()), ("b", b.into())]);
        assert_eq!(
            out,
            "# HELP rq_jobs RQ jobs\n# TYPE rq_jobs gauge\nrq_jobs{instance=\"a\",queue=\"q\",status=\"queued\"} 3\n\
             # HELP taskmill_redis_up up\n# TYPE taskmill_redis_up gauge\ntaskmill_redis_up{instance=\"a\"} 1\ntaskmill_redis_up{instance=\"b\"} 0\n"
        );
        assert_eq!(labelled("x{} 1", "i"), "x{instance=\"i\"} 1");
    }
}
