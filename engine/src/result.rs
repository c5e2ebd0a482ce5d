//! `rq:results:<id>` stream entries: read (tolerantly) and encode (exactly as RQ 2.12 writes them).
//!
//! Entry fields: `type` (1–5), `worker_name`, `return_value` = base64(serializer(value)),
//! `exc_string` = base64(zlib(utf-8 traceback)), `execution_id`, `execution_started_at` /
//! `execution_ended_at` (unix float text). The entry id's millisecond part is the creation time.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use redis::Value;

use crate::codec;
use crate::keys;
use crate::model::{Decoded, JobResult, ResultType};
use crate::reply::{self, field, Hash};
use crate::{Result, Store};

/// Most entries read per job. RQ trims with `MAXLEN ~ 10`, which can leave a few dozen.
pub const MAX_ENTRIES: usize = 50;
/// Largest traceback text kept after inflating.
pub const MAX_EXC_BYTES: usize = 1 << 20;

/// Every entry of a job's results stream (newest first, at most `MAX_ENTRIES`).
pub async fn fetch(store: &Store, id: &str) -> Result<Vec<JobResult>> {
    // ignore_errors: a wrong-typed key is a `ServerError` value, i.e. no entries, not a failure.
    let v: Vec<Value> = redis::pipe()
        .ignore_errors()
        .cmd("XREVRANGE")
        .arg(keys::results(id))
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(MAX_ENTRIES)
        .query_async(&mut store.conn())
        .await?;
    let v = v.into_iter().next().unwrap_or(Value::Nil);
    Ok(parse_reply(&v))
}

/// Parses an XREVRANGE reply; anything that is not a stream reply gives no entries.
pub fn parse_reply(v: &Value) -> Vec<JobResult> {
    reply::stream_entries(v)
        .iter()
        .map(|(id, h)| parse_entry(id, h))
        .collect()
}

/// One stream entry. Never fails: bad fields become `None` or `Undecodable`.
pub fn parse_entry(id: &str, h: &Hash) -> JobResult {
    let created_at = id
        .split('-')
        .next()
        .and_then(|ms| ms.parse::<u64>().ok())
        .map(|ms| ms as f64 / 1000.0);
    let float = |name: &str| field(h, name).and_then(|s| reply::parse_float(&s));
    JobResult {
        id: id.to_string(),
        created_at,
        kind: field(h, "type")
            .map(|t| ResultType::from_code(t.trim()))
            .unwrap_or(ResultType::Unknown),
        worker_name: field(h, "worker_name").map(|s| s.into_owned()),
        return_value: h
            .get("return_value")
            .filter(|b| !b.is_empty())
            .map(|b| decode_return_value(b)),
        exc_string: h
            .get("exc_string")
            .filter(|b| !b.is_empty())
            .map(|b| decode_exc_string(b)),
        execution_id: field(h, "execution_id").map(|s| s.into_owned()),
        execution_started_at: float("execution_started_at"),
        execution_ended_at: float("execution_ended_at"),
    }
}

/// base64 → serializer payload.
pub fn decode_return_value(b64: &[u8]) -> Decoded {
    match B64.decode(b64.trim_ascii()) {
        Ok(raw) => codec::decode_value(&raw),
        Err(e) => codec::undecodable(format!("return_value is not base64: {e}"), b64),
    }
}

/// base64 → zlib → text. Falls back like RQ readers do: undecodable base64 or zlib shows the
/// bytes it has, as text.
pub fn decode_exc_string(b64: &[u8]) -> String {
    let Ok(raw) = B64.decode(b64.trim_ascii()) else {
        return String::from_utf8_lossy(b64).into_owned();
    };
    match codec::zlib::inflate_or_raw(&raw, MAX_EXC_BYTES) {
        Ok(text) => String::from_utf8_lossy(&text).into_owned(),
        Err(e) => format!("<traceback not shown: {e}>"),
    }
}

/// What a worker writes into `exc_string`: base64 of zlib of the UTF-8 text.
pub fn encode_exc_string(text: &str) -> String {
    B64.encode(codec::zlib::deflate(text.as_bytes()))
}

/// What a JSON-serializer worker writes into `return_value`: base64 of `json.dumps(value)`.
pub fn encode_return_value(v: &serde_json::Value) -> String {
    B64.encode(codec::json::dumps_python(v))
}

/// The last non-empty line of a traceback, e.g. `ValueError: boom`.
pub fn exc_summary(traceback: &str) -> Option<String> {
    let line = traceback
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())?;
    Some(crate::value::truncate_chars(line, 300).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encoders_match_rq_fixture_values() {
        // rq-fixture-dump.txt: fx-json-finished and fx-json-finished-dict return values.
        assert_eq!(encode_return_value(&json!(5)), "NQ==");
        assert_eq!(
            encode_return_value(&json!({"args": ["a", 1], "kwargs": {"x": {"k": [1, 2]}}})),
            "eyJhcmdzIjogWyJhIiwgMV0sICJrd2FyZ3MiOiB7IngiOiB7ImsiOiBbMSwgMl19fX0="
        );
        // Python: base64.b64encode(zlib.compress(b"Job stopped by user, work-horse terminated."))
        let text = "Job stopped by user, work-horse terminated.";
        let enc = encode_exc_string(text);
        assert!(enc.starts_with("eJ")); // 78 9c
        assert_eq!(decode_exc_string(enc.as_bytes()), text);
    }

    #[test]
    fn parses_fixture_entries() {
        let mut h = Hash::new();
        h.insert("type".into(), b"1".to_vec());
        h.insert("worker_name".into(), b"fx-burst-default".to_vec());
        h.insert("return_value".into(), b"gAVLBS4=".to_vec());
        h.insert(
            "execution_id".into(),
            b"5d816c4161cc42da9b54e9e0c61b055d".to_vec(),
        );
        h.insert("execution_started_at".into(), b"1795259733.120841".to_vec());
        h.insert("execution_ended_at".into(), b"1795259733.133668".to_vec());
        let r = parse_entry("1795259733134-0", &h);
        assert_eq!(r.kind, ResultType::Successful);
        assert_eq!(r.created_at, Some(1795259733.134));
        assert_eq!(r.execution_started_at, Some(1795259733.120841));
        match r.return_value {
            Some(Decoded::Ok { value, .. }) => assert_eq!(value.repr(), "5"),
            other => panic!("{other:?}"),
        }
        let mut bad = Hash::new();
        bad.insert("type".into(), b"9".to_vec());
        bad.insert("return_value".into(), b"!!notbase64".to_vec());
        bad.insert("exc_string".into(), b"plain text".to_vec());
        bad.insert("worker_name".into(), b"".to_vec());
        let r = parse_entry("garbage", &bad);
        assert_eq!(
            (r.kind, r.created_at, r.worker_name),
            (ResultType::Unknown, None, None)
        );
        assert!(matches!(r.return_value, Some(Decoded::Undecodable { .. })));
        assert_eq!(r.exc_string.as_deref(), Some("plain text"));
        assert_eq!(
            exc_summary("Traceback...\n  x\nValueError: boom\n\n").as_deref(),
            Some("ValueError: boom")
        );
    }
}
