//! Payload codecs. Every decoder is bounded (input size, output size, nesting depth) and total:
//! it returns a value or an `Undecodable` marker, never panics, never executes anything.
//!
//! - `zlib`   — bounded inflate, Python-compatible deflate.
//! - `json`   — Python's JSON dialect in, `json.dumps` defaults out.
//! - `pickle` — symbolic pickle decoder (protocols 0–5).

pub mod json;
pub mod pickle;
pub mod zlib;

use crate::model::{Call, Codec, Decoded};
use crate::value::PyValue;

/// Largest payload we decode after inflating (RQ has no limit; a console must).
pub const MAX_PAYLOAD: usize = 16 << 20;
/// Size of the escaped preview kept in `Decoded::Undecodable`.
pub const PREVIEW_BYTES: usize = 2048;

/// Decodes a serializer payload (meta, legacy `result`, a stream `return_value` after base64),
/// trying the likelier codec first. No zlib step: RQ does not compress these.
pub fn decode_value(raw: &[u8]) -> Decoded {
    match decode_any(raw) {
        Ok((codec, value, lossy)) => Decoded::Ok {
            codec,
            value,
            lossy,
        },
        Err(reason) => undecodable(reason, raw),
    }
}

/// Decodes a job's `data` field: zlib-or-raw, then JSON or pickle, then RQ's 4-tuple
/// `(func_name, instance, args, kwargs)`.
pub fn decode_data(raw: &[u8]) -> Result<Call, Decoded> {
    let bytes = zlib::inflate_or_raw(raw, MAX_PAYLOAD).map_err(|r| undecodable(r, raw))?;
    let (codec, value, mut lossy) = decode_any(&bytes).map_err(|r| undecodable(r, &bytes))?;
    let parts = match value {
        PyValue::Tuple(v) | PyValue::List(v) if v.len() == 4 => v,
        other => {
            let reason = format!(
                "expected (func_name, instance, args, kwargs), got {}",
                other.repr_limited(200)
            );
            return Err(undecodable(reason, &bytes));
        }
    };
    let mut it = parts.into_iter();
    let (func, instance, args, kwargs) = match (it.next(), it.next(), it.next(), it.next()) {
        (Some(a), Some(b), Some(c), Some(d)) => (a, b, c, d),
        _ => return Err(undecodable("short call tuple".into(), &bytes)),
    };
    let func_name = match func {
        PyValue::Str(s) => s,
        other => {
            let reason = format!("func_name is not a string: {}", other.repr_limited(200));
            return Err(undecodable(reason, &bytes));
        }
    };
    let args = match args {
        PyValue::Tuple(v) | PyValue::List(v) => v,
        PyValue::None => Vec::new(),
        other => {
            lossy = true;
            vec![other]
        }
    };
    let kwargs = match kwargs {
        PyValue::Dict(pairs) => pairs
            .into_iter()
            .map(|(k, v)| match k {
                PyValue::Str(k) => (k, v),
                other => {
                    lossy = true;
                    (other.repr_limited(200), v)
                }
            })
            .collect(),
        PyValue::None => Vec::new(),
        other => {
            lossy = true;
            vec![("**".to_string(), other)]
        }
    };
    Ok(Call {
        codec,
        func_name,
        instance,
        args,
        kwargs,
        lossy,
    })
}

/// Pickle first when the bytes start like a protocol 2+ pickle, JSON first otherwise.
fn decode_any(bytes: &[u8]) -> Result<(Codec, PyValue, bool), String> {
    if bytes.len() > MAX_PAYLOAD {
        return Err(format!("payload larger than {MAX_PAYLOAD} bytes"));
    }
    if bytes.is_empty() {
        return Err("empty payload".into());
    }
    let pickle = |b| pickle::loads(b).map(|(v, l)| (Codec::Pickle, v, l));
    let json = |b| json::loads(b).map(|(v, l)| (Codec::Json, v, l));
    if bytes[0] == 0x80 {
        pickle(bytes).or_else(|pe| json(bytes).map_err(|_| format!("pickle: {pe}")))
    } else {
        json(bytes).or_else(|je| pickle(bytes).map_err(|pe| format!("json: {je}; pickle: {pe}")))
    }
}

pub fn undecodable(reason: String, raw: &[u8]) -> Decoded {
    Decoded::Undecodable {
        reason,
        raw: preview(raw, PREVIEW_BYTES),
        len: raw.len(),
    }
}

/// A printable, escaped preview of raw bytes: UTF-8 text is kept (controls escaped), other
/// bytes become `\xNN`; cut at about `max` bytes with `…`.
pub fn preview(raw: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < raw.len() {
        if out.len() >= max {
            out.push('…');
            break;
        }
        let end = (i + 4).min(raw.len());
        let ch = (1..=end - i).find_map(|n| {
            let s = std::str::from_utf8(&raw[i..i + n]).ok()?;
            Some((s.chars().next()?, n))
        });
        match ch {
            Some((c, n)) if !c.is_control() || matches!(c, '\n' | '\r' | '\t') => {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
                i += n;
            }
            _ => {
                out.push_str(&format!("\\x{:02x}", raw[i]));
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
