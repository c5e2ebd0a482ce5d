//! Tolerant conversions from raw `redis::Value` replies. Reads go through `Value` (with the
//! pipeline's `ignore_errors`) so that one wrong-typed key becomes a `None` here instead of
//! failing a whole page. Handles both RESP2 and RESP3 shapes.

use std::collections::HashMap;

use redis::Value;

/// A field map as read from a hash (HGETALL, stream entry fields).
pub type Hash = HashMap<String, Vec<u8>>;

pub fn is_error(v: &Value) -> bool {
    matches!(v, Value::ServerError(_))
}

pub fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.as_bytes().to_vec()),
        Value::VerbatimString { text, .. } => Some(text.as_bytes().to_vec()),
        Value::Okay => Some(b"OK".to_vec()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        Value::Double(d) => Some(d.to_string().into_bytes()),
        _ => None,
    }
}

/// `bytes` of an owned reply, moving a bulk string's buffer out instead of copying it.
pub fn into_bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        other => bytes(&other),
    }
}

/// `items` of an owned reply.
pub fn into_items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        _ => Vec::new(),
    }
}

/// Exact text of a reply our own scripts return (ids, execution ids): `None` for bytes that are
/// not UTF-8, never a lossy copy, since the text is sent back to Redis as a key part.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

pub fn string(v: &Value) -> Option<String> {
    bytes(v).map(|b| String::from_utf8_lossy(&b).into_owned())
}

pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Boolean(b) => Some(*b as i64),
        other => string(other)?.trim().parse().ok(),
    }
}

/// A count reply (`LLEN`, `ZCARD`, `ZCOUNT`, ...); an error, nil or garbage counts as 0.
pub fn count(v: &Value) -> u64 {
    int(v).unwrap_or(0).max(0) as u64
}

/// Redis scores: `inf`, `-inf` or decimal text (RESP2), or a double (RESP3).
pub fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(*d),
        Value::Int(i) => Some(*i as f64),
        other => parse_float(&string(other)?),
    }
}

pub fn parse_float(s: &str) -> Option<f64> {
    let s = s.trim();
    match s {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok().filter(|f: &f64| !f.is_nan()),
    }
}

/// The items of an array / set reply (SMEMBERS, LRANGE, ...); empty for anything else.
pub fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        _ => &[],
    }
}

pub fn strings(v: &Value) -> Vec<String> {
    items(v).iter().filter_map(string).collect()
}

/// HGETALL / field lists: a flat `[k, v, k, v]` array (RESP2) or a map (RESP3).
/// `None` for an error reply (wrong type).
pub fn hash(v: &Value) -> Option<Hash> {
    let mut h = Hash::new();
    match v {
        Value::Map(pairs) => {
            for (k, v) in pairs {
                if let (Some(k), Some(v)) = (string(k), bytes(v)) {
                    h.insert(k, v);
                }
            }
        }
        Value::Array(flat) => {
            for kv in flat.chunks_exact(2) {
                if let (Some(k), Some(v)) = (string(&kv[0]), bytes(&kv[1])) {
                    h.insert(k, v);
                }
            }
        }
        Value::Nil => {}
        _ => return None,
    }
    Some(h)
}

/// `ZRANGE ... WITHSCORES`: flat `[m, s, m, s]` (RESP2) or `[[m, s], ...]` (RESP3).
pub fn scored(v: &Value) -> Vec<(String, Option<f64>)> {
    let a = items(v);
    if a.iter().all(|x| matches!(x, Value::Array(_))) && !a.is_empty() {
        return a
            .iter()
            .filter_map(|p| match items(p) {
                [m, s] => Some((string(m)?, float(s))),
                _ => None,
            })
            .collect();
    }
    a.chunks_exact(2)
        .filter_map(|p| Some((string(&p[0])?, float(&p[1]))))
        .collect()
}

/// `XRANGE` / `XREVRANGE`: `[[id, [f, v, ...]], ...]`.
pub fn stream_entries(v: &Value) -> Vec<(String, Hash)> {
    items(v)
        .iter()
        .filter_map(|e| match items(e) {
            [id, fields] => Some((string(id)?, hash(fields).unwrap_or_default())),
            _ => None,
        })
        .collect()
}

/// A hash field as text, with RQ's rule that `""` means unset.
pub fn field<'a>(h: &'a Hash, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    match h.get(name) {
        Some(b) if !b.is_empty() => Some(String::from_utf8_lossy(b)),
        _ => None,
    }
}
