//! Decoding a kombu message envelope (queue lists, `unacked`, events, pidbox replies) for
//! display. Every byte is hostile: a broken envelope, a body that is not base64 or JSON, a
//! pickle-serialised message (decoded by Taskmill's own pickle decoder, never executed) or a
//! huge payload yields a `CeleryMessage` with an `undecodable` reason, never an error.

use base64::Engine as _;
use serde_json::Value;

use super::types::CeleryMessage;
use crate::value::PyValue;

/// Envelopes larger than this are not parsed at all (their size is still shown).
pub const MAX_ENVELOPE: usize = 4 * 1024 * 1024;
/// Longest args / kwargs text kept for display.
pub const MAX_REPR: usize = 2000;

/// The parsed JSON of an envelope and its decoded body, for callers that need more than the
/// display summary (events, pidbox replies, captured messages).
pub struct Envelope {
    pub json: Value,
    /// The body after base64 and deserialisation, or why not.
    pub body: Result<Value, String>,
}

/// Parses the envelope and decodes a JSON body (events and replies are always JSON).
pub fn parse(raw: &[u8]) -> Result<Envelope, String> {
    if raw.len() > MAX_ENVELOPE {
        return Err(format!("envelope of {} bytes is too large", raw.len()));
    }
    let json: Value = serde_json::from_slice(raw).map_err(|e| format!("not JSON: {e}"))?;
    if !json.is_object() {
        return Err("envelope is not a JSON object".into());
    }
    let body = body_bytes(&json).and_then(|b| match content_type(&json) {
        "application/json" | "" => {
            serde_json::from_slice(&b).map_err(|e| format!("body is not JSON: {e}"))
        }
        ct => Err(format!("body is {ct}, not JSON")),
    });
    Ok(Envelope { json, body })
}

fn content_type(json: &Value) -> &str {
    json.get("content-type")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The body's bytes: base64-decoded when `properties.body_encoding` says so.
fn body_bytes(json: &Value) -> Result<Vec<u8>, String> {
    let body = json
        .get("body")
        .and_then(Value::as_str)
        .ok_or("no body string")?;
    let encoding = json
        .pointer("/properties/body_encoding")
        .and_then(Value::as_str);
    match encoding {
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|e| format!("body is not base64: {e}")),
        _ => Ok(body.as_bytes().to_vec()),
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn repr(v: &PyValue) -> String {
    v.repr_limited(MAX_REPR)
}

/// A display summary of one task message. Headers are read even when the body is not.
pub fn decode(raw: &[u8]) -> CeleryMessage {
    let mut m = CeleryMessage {
        size: raw.len() as u64,
        ..Default::default()
    };
    if raw.len() > MAX_ENVELOPE {
        m.undecodable = Some(format!("envelope of {} bytes is too large", raw.len()));
        return m;
    }
    match serde_json::from_slice(raw) {
        Ok(json) => decode_json(&json, raw.len()),
        Err(e) => {
            m.undecodable = Some(format!("envelope is not JSON: {e}"));
            m
        }
    }
}

/// Like [`decode`] for an envelope already parsed (`unacked` holds envelopes as JSON objects
/// inside its `[envelope, exchange, routing_key]` values; older kombu as strings).
pub fn decode_json(json: &Value, size: usize) -> CeleryMessage {
    let mut m = CeleryMessage {
        size: size as u64,
        ..Default::default()
    };
    let json = match json {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => return decode_json(&v, size),
            Ok(_) => {
                m.undecodable = Some("envelope is not a JSON object".into());
                return m;
            }
            Err(e) => {
                m.undecodable = Some(format!("envelope is not JSON: {e}"));
                return m;
            }
        },
        Value::Object(_) => json,
        _ => {
            m.undecodable = Some("envelope is not a JSON object".into());
            return m;
        }
    };
    let h = json.get("headers").cloned().unwrap_or(Value::Null);
    let p = json.get("properties").cloned().unwrap_or(Value::Null);
    m.content_type = text(json.get("content-type"));
    m.priority = p.get("priority").and_then(Value::as_i64);
    m.redelivered = h.get("redelivered").and_then(Value::as_bool) == Some(true)
        || p.pointer("/delivery_info/redelivered")
            .and_then(Value::as_bool)
            == Some(true);
    let body = body_bytes(json).and_then(|b| deserialize(content_type(json), &b));
    if h.get("task").is_some_and(Value::is_string) {
        m.protocol = 2;
        m.id = text(h.get("id"));
        m.task = text(h.get("task"));
        m.eta = text(h.get("eta"));
        m.expires = text(h.get("expires"));
        m.retries = h.get("retries").and_then(Value::as_i64);
        m.root_id = text(h.get("root_id"));
        m.parent_id = text(h.get("parent_id"));
        m.group = text(h.get("group"));
        m.args = text(h.get("argsrepr"));
        m.kwargs = text(h.get("kwargsrepr"));
        match body {
            Ok(PyValue::List(items)) | Ok(PyValue::Tuple(items)) if items.len() >= 2 => {
                m.args.get_or_insert_with(|| repr(&items[0]));
                m.kwargs.get_or_insert_with(|| repr(&items[1]));
            }
            Ok(other) => {
                m.undecodable = Some(format!(
                    "protocol 2 body is not [args, kwargs, embed]: {}",
                    other.repr_limited(200)
                ))
            }
            Err(e) => m.undecodable = Some(e),
        }
        return m;
    }
    match body {
        Ok(PyValue::Dict(pairs)) if pairs.iter().any(|(k, _)| k.as_str() == Some("task")) => {
            m.protocol = 1;
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(name))
                    .map(|(_, v)| v)
            };
            let s = |name: &str| get(name).and_then(|v| v.as_str().map(str::to_string));
            m.id = s("id");
            m.task = s("task");
            m.eta = s("eta");
            m.expires = s("expires");
            m.group = s("taskset").or_else(|| s("group"));
            m.retries = get("retries").and_then(|v| match v {
                PyValue::Int(i) => Some(*i),
                _ => None,
            });
            m.args = get("args").map(repr);
            m.kwargs = get("kwargs").map(repr);
        }
        Ok(other) => {
            m.id = text(p.get("correlation_id"));
            m.undecodable = Some(format!(
                "not a Celery task message: {}",
                other.repr_limited(200)
            ));
        }
        Err(e) => {
            m.id = text(p.get("correlation_id"));
            m.undecodable = Some(e);
        }
    }
    m
}

/// JSON or pickle (display only) into the display tree.
fn deserialize(content_type: &str, bytes: &[u8]) -> Result<PyValue, String> {
    match content_type {
        "application/json" | "" => serde_json::from_slice::<Value>(bytes)
            .map(|v| PyValue::from_json(&v))
            .map_err(|e| format!("body is not JSON: {e}")),
        "application/x-python-serialize" => crate::codec::pickle::loads(bytes)
            .map(|(v, _)| v)
            .map_err(|e| format!("pickle body: {e}")),
        other => Err(format!("unsupported content type {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(headers: Value, body: &[u8], ct: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "body": base64::engine::general_purpose::STANDARD.encode(body),
            "content-encoding": "utf-8", "content-type": ct, "headers": headers,
            "properties": {"body_encoding": "base64", "priority": 3,
                           "correlation_id": "c1", "delivery_tag": "t"}
        }))
        .unwrap()
    }

    #[test]
    fn protocol_2() {
        let raw = env(
            serde_json::json!({"task": "t.add", "id": "i1", "retries": 2, "argsrepr": "(2, 3)",
                               "kwargsrepr": "{}", "root_id": "r", "parent_id": null,
                               "eta": "2099-01-01T00:00:00+00:00"}),
            br#"[[2, 3], {}, {"callbacks": null}]"#,
            "application/json",
        );
        let m = decode(&raw);
        assert_eq!(m.protocol, 2);
        assert_eq!(m.task.as_deref(), Some("t.add"));
        assert_eq!(m.args.as_deref(), Some("(2, 3)"));
        assert_eq!(m.retries, Some(2));
        assert_eq!(m.priority, Some(3));
        assert_eq!(m.eta.as_deref(), Some("2099-01-01T00:00:00+00:00"));
        assert_eq!(m.undecodable, None);
    }

    #[test]
    fn protocol_1_and_pickle() {
        let raw = env(
            serde_json::json!({}),
            br#"{"task": "t.x", "id": "i2", "args": [1], "kwargs": {"a": 1}, "retries": 0}"#,
            "application/json",
        );
        let m = decode(&raw);
        assert_eq!((m.protocol, m.id.as_deref()), (1, Some("i2")));
        assert_eq!(m.args.as_deref(), Some("[1]"));
        // pickle protocol 2 of (1, 2) wrapped as [args, kwargs, embed] = ((1, 2), {}, {})
        let pickle = b"\x80\x02K\x01K\x02\x86q\x00}q\x01}q\x02\x87q\x03.";
        let raw = env(
            serde_json::json!({"task": "t.p", "id": "i3"}),
            pickle,
            "application/x-python-serialize",
        );
        let m = decode(&raw);
        assert_eq!(m.undecodable, None, "{m:?}");
        assert_eq!(m.args.as_deref(), Some("(1, 2)"));
    }

    #[test]
    fn hostile_input_is_undecodable() {
        for raw in [
            &b"not json"[..],
            b"[1,2]",
            br#"{"body": "!!!", "properties": {"body_encoding": "base64"}, "headers": {"task": "t", "id": "x"}}"#,
            br#"{"body": "aGVsbG8=", "properties": {"body_encoding": "base64"}, "headers": {}}"#,
        ] {
            let m = decode(raw);
            assert!(m.undecodable.is_some(), "{raw:?} → {m:?}");
        }
        let huge = vec![b' '; MAX_ENVELOPE + 1];
        assert!(decode(&huge).undecodable.unwrap().contains("too large"));
        let yaml = env(
            serde_json::json!({"task": "t", "id": "y"}),
            b"- 1",
            "application/x-yaml",
        );
        let m = decode(&yaml);
        assert_eq!(m.id.as_deref(), Some("y"));
        assert!(m.undecodable.unwrap().contains("unsupported"));
    }
}
