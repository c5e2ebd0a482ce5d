//! `GET /api/v1/openapi.json`: an OpenAPI 3.1 document that cannot drift from the router.
//! Every `.route(...)` registered in `server/src/api/` (read from the source: axum cannot list
//! a router's routes) must be in the document with the same methods, and every operation of the
//! document must reach a handler of the real router (not the API's 404 / 405 fallbacks).

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use tower::ServiceExt;

use crate::support::*;

async fn document(c: &Ctx) -> serde_json::Value {
    let r = send(&c.app, get("/api/v1/openapi.json")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    r.json()
}

/// `(METHOD, /api/v1/path)` of every route in the API's source files.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        // Each `.route(` call runs to the next one (or the end of the routes function).
        for chunk in src.split(".route(").skip(1) {
            let chunk = chunk.split("\n}\n").next().unwrap();
            let rest = chunk.trim_start().strip_prefix('"').unwrap();
            let route = &rest[..rest.find('"').unwrap()];
            let squeezed: String = rest[route.len() + 1..].split_whitespace().collect();
            let mut methods = 0;
            for (m, tokens) in [("GET", [",get(", ".get("]), ("POST", [",post(", ".post("])] {
                if tokens.iter().any(|t| squeezed.contains(t)) {
                    out.insert((m.to_string(), format!("/api/v1{route}")));
                    methods += 1;
                }
            }
            assert!(
                methods > 0,
                "{}: no method found for {route}",
                path.display()
            );
        }
    }
    out
}

fn routes_in_document(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            out.insert((m.to_uppercase(), path.clone()));
        }
    }
    out
}

#[tokio::test]
async fn document_is_openapi_3_1_and_lists_every_route() {
    let c = ctx().await;
    let doc = document(&c).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "openapi {version}");

    let source = routes_in_source();
    // The scan itself must see the API (not pass on an empty set).
    assert!(source.len() > 60, "only {} routes found", source.len());
    assert!(source.contains(&("GET".into(), "/api/v1/openapi.json".into())));
    assert!(source.contains(&("POST".into(), "/api/v1/jobs/requeue".into())));
    assert!(source.contains(&("GET".into(), "/api/v1/jobs/requeue".into())));
    let documented = routes_in_document(&doc);
    let missing: Vec<_> = source.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    let extra: Vec<_> = documented.difference(&source).collect();
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");

    // Every operation answers from a handler: path parameters get a plausible value, and the
    // fallbacks' answers (404 "no such API route", 405) mean the document names a ghost.
    for (method, path) in &documented {
        let uri = path
            .replace("{fingerprint}", "0123456789abcdef")
            .replace('{', "x")
            .replace('}', "");
        let req = if method == "POST" {
            post_builder(&uri).body(Body::empty()).unwrap()
        } else {
            get(&uri)
        };
        let res = c.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        if status == StatusCode::NOT_FOUND {
            let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap();
            let body = String::from_utf8_lossy(&body);
            assert!(
                !body.contains("no such API route"),
                "{method} {uri}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn document_describes_errors_security_and_constraints() {
    let c = ctx().await;
    let doc = document(&c).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["basic"]["scheme"], "basic");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let err = &doc["components"]["schemas"]["ErrorBody"];
    assert!(err["properties"]["code"].is_object() && err["properties"]["message"].is_object());

    let op = &doc["paths"]["/api/v1/queues/{name}/empty"]["post"];
    for status in ["200", "400", "403", "404", "409", "503"] {
        assert!(op["responses"][status].is_object(), "empty: no {status}");
    }
    let series = &doc["paths"]["/api/v1/stats/series"]["get"]["parameters"];
    let metric = series
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "metric")
        .unwrap();
    assert_eq!(metric["required"], true);
    let text = metric.to_string() + &doc["components"]["schemas"]["StatsMetric"].to_string();
    assert!(text.contains("latency"), "metric enum: {text}");
    // The untagged answers are `anyOf` (their variants share fields).
    assert!(doc["components"]["schemas"]["Outcome"]["anyOf"].is_array());
}

/// Every `$ref` names a schema of the document (a parameter enum that is not registered
/// would leave a dangling reference that every client and fuzzer trips on).
#[tokio::test]
async fn every_reference_resolves() {
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let c = ctx().await;
    let doc = document(&c).await;
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50, "only {} references", all.len());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling {r}"
        );
    }
}

#[tokio::test]
async fn document_is_served_without_redis() {
    let c = ctx_redis_down();
    let r = send(&c.app, get("/api/v1/openapi.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &c.app,
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/openapi.json")
            .header(header::HOST, "127.0.0.1:9181")
            .header(header::ORIGIN, "http://127.0.0.1:9181")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}
