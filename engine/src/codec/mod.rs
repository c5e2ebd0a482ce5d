//! Payload codecs. Every decoder is bounded (input size, output size, nesting depth) and total:
//! it returns a value or an `Undecodable` marker, never panics, never executes anything.
//!
//! - `zlib`   — bounded inflate, Python-compatible deflate.
//! - `json`   — Python's JSON dialect in, `json.dumps` defaults out.
//! - `pickle` — symbolic pickle decoder (protocols 0–5).

pub mod json;
pub mod memo;
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

/// `func_name` from the head of a `data` field (zlib'd or raw, pickle or JSON) without decoding
/// the rest: list pages read only a short prefix of each job's payload.
pub fn func_name_hint(data_head: &[u8]) -> Option<String> {
    let b = zlib::inflate_prefix(data_head, 4096);
    let name = if b.first() == Some(&0x80) || b.first() == Some(&b'(') {
        pickle_first_string(&b)?
    } else {
        json_first_string(&b)?
    };
    (!name.is_empty()).then(|| crate::value::truncate_chars(&name, 300).to_string())
}

/// PROTO? FRAME? MARK <string opcode>: the func_name of RQ's call tuple.
fn pickle_first_string(b: &[u8]) -> Option<String> {
    let mut i = 0;
    if b.get(i) == Some(&0x80) {
        i += 2;
    }
    if b.get(i) == Some(&0x95) {
        i += 9;
    }
    if b.get(i) != Some(&b'(') {
        return None;
    }
    i += 1;
    let op = *b.get(i)?;
    i += 1;
    let take = |start: usize, n: usize| b.get(start..start.checked_add(n)?);
    let raw = match op {
        0x8c | b'U' => take(i + 1, *b.get(i)? as usize)?,
        b'X' | b'T' => take(
            i + 4,
            u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize,
        )?,
        0x8d => take(
            i + 8,
            usize::try_from(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?)).ok()?,
        )?,
        b'V' | b'S' => {
            let line = &b[i..i + b[i..].iter().position(|&c| c == b'\n')?];
            let line = if op == b'S' {
                line.get(1..line.len().checked_sub(1)?)?
            } else {
                line
            };
            line
        }
        _ => return None,
    };
    Some(String::from_utf8_lossy(raw).into_owned())
}

/// `["func", ...`: the first JSON string inside the top-level array.
fn json_first_string(b: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(b)
        .or_else(|e| std::str::from_utf8(&b[..e.valid_up_to()]))
        .ok()?;
    let s = s.trim_start().strip_prefix('[')?.trim_start();
    if !s.starts_with('"') {
        return None;
    }
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                return match json::loads(&bytes[..=i]) {
                    Ok((PyValue::Str(name), _)) => Some(name),
                    _ => None,
                }
            }
            _ => i += 1,
        }
    }
    None
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
