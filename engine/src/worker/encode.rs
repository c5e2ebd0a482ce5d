//! What the worker encodes and decodes, on top of the shared codecs: result-entry fields
//! (`crate::result` encoders), bounded tracebacks, and the JSON `data` 4-tuple of a job to run.

use serde_json::{Map, Value};

use crate::codec;

/// Largest decompressed `data` payload the worker accepts (hostile input is bounded).
pub const MAX_DATA: usize = codec::MAX_PAYLOAD;
/// Longest traceback stored in a result entry.
pub const MAX_TRACEBACK: usize = 64 * 1024;

/// `exc_string` of a result entry: base64(zlib(utf-8 text)), the text cut to `MAX_TRACEBACK`.
pub fn exc_string(text: &str) -> String {
    crate::result::encode_exc_string(truncate(text, MAX_TRACEBACK))
}

/// `return_value` of a result entry; `None` for null (RQ omits the field).
pub fn return_value(v: &Value) -> Option<String> {
    (!v.is_null()).then(|| crate::result::encode_return_value(v))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A job call decoded from `data` (JSON serializer): `[func, null, [args], {kwargs}]`.
#[derive(Debug, PartialEq)]
pub struct JsonCall {
    pub func: String,
    pub args: Vec<Value>,
    pub kwargs: Map<String, Value>,
}

/// zlib-or-raw (RQ's read rule, as `codec::zlib::inflate_or_raw`), then the 4-tuple. The error
/// text becomes the job's traceback.
pub fn decode_call(data: &[u8]) -> Result<JsonCall, String> {
    let inflated;
    let raw: &[u8] = if codec::zlib::looks_zlib(data) {
        match inflate_reusing(data, MAX_DATA) {
            Ok(v) => {
                inflated = v;
                &inflated
            }
            Err(e) if e.starts_with("inflated size") => return Err(e),
            Err(_) => data,
        }
    } else {
        data
    };
    let v: Value = serde_json::from_slice(raw)
        .map_err(|e| format!("job data is not JSON ({e}); is this a pickle job?"))?;
    let Value::Array(parts) = v else {
        return Err("job data is not a [func, instance, args, kwargs] array".into());
    };
    let Ok([func, instance, args, kwargs]) = <[Value; 4]>::try_from(parts) else {
        return Err("job data must have exactly 4 elements".into());
    };
    match (func, instance, args, kwargs) {
        (Value::String(func), Value::Null, Value::Array(args), Value::Object(kwargs)) => {
            Ok(JsonCall { func, args, kwargs })
        }
        _ => Err("job data must be [string, null, array, object]".into()),
    }
}

/// `codec::zlib::inflate_bounded` with one inflater per thread, reset between jobs: a fresh one
/// (tens of KiB of state, zeroed and moved) plus a zeroed 32 KiB buffer cost more than inflating
/// a typical job's few dozen bytes. Output grows in the Vec's spare capacity, never past
/// `max_out` + 1 bytes of content.
fn inflate_reusing(bytes: &[u8], max_out: usize) -> Result<Vec<u8>, String> {
    use flate2::{Decompress, FlushDecompress, Status};
    use std::cell::RefCell;
    thread_local! {
        static INFLATER: RefCell<Decompress> = RefCell::new(Decompress::new(true));
    }
    INFLATER.with(|cell| {
        let mut d = cell.borrow_mut();
        d.reset(true);
        let mut out: Vec<u8> = Vec::with_capacity((bytes.len() * 4).max(64).min(max_out + 1));
        loop {
            let (in_before, out_before) = (d.total_in() as usize, out.len());
            let rest = bytes.get(in_before..).unwrap_or_default();
            let status = d
                .decompress_vec(rest, &mut out, FlushDecompress::None)
                .map_err(|e| format!("bad zlib stream: {e}"))?;
            if out.len() > max_out {
                return Err(format!("inflated size exceeds {max_out} bytes"));
            }
            match status {
                Status::StreamEnd => return Ok(out),
                _ if out.len() == out.capacity() => {
                    let more = out.capacity().min(max_out + 1 - out.len()).max(1);
                    out.reserve_exact(more);
                }
                _ if out.len() == out_before && d.total_in() as usize == in_before => {
                    return Err("truncated zlib stream".into())
                }
                _ => {}
            }
        }
    })
}

/// A Python-style traceback for a data payload the worker cannot deserialize.
pub fn deserialization_traceback(reason: &str) -> String {
    format!(
        "Traceback (most recent call last):\n  File \"taskmill\", in deserialize\n\
         rq.exceptions.DeserializationError: {reason}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_raw_and_zlib_calls_and_rejects_others() {
        let raw = br#"["m.f", null, [2, 3], {"a": 1}]"#;
        let call = decode_call(raw).unwrap();
        assert_eq!(call.func, "m.f");
        assert_eq!(call.args, vec![json!(2), json!(3)]);
        assert_eq!(decode_call(&codec::zlib::deflate(raw)).unwrap(), call);
        assert!(decode_call(b"\x80\x05garbage").is_err());
        assert!(decode_call(br#"["m.f", null, [2]]"#).is_err());
        assert!(decode_call(br#"[1, null, [], {}]"#).is_err());
        assert!(decode_call(b"").is_err());
    }

    #[test]
    fn reused_inflater_matches_the_codec_and_stays_bounded() {
        let big = br#"["m.f", null, ["aaaa"], {}]"#.repeat(4000);
        for text in [&b"[]"[..], b"", &big[..]] {
            let z = codec::zlib::deflate(text);
            assert_eq!(inflate_reusing(&z, MAX_DATA).unwrap(), text);
            assert_eq!(inflate_reusing(&z, text.len()).unwrap(), text);
        }
        let z = codec::zlib::deflate(&big);
        assert!(inflate_reusing(&z, big.len() - 1)
            .unwrap_err()
            .starts_with("inflated size"));
        let bomb = codec::zlib::deflate(&vec![0u8; 50 << 20]);
        assert!(inflate_reusing(&bomb, 1 << 20).is_err());
        // A cut stream and garbage fail, and the next call is unaffected by them.
        assert!(inflate_reusing(&z[..z.len() / 2], MAX_DATA).is_err());
        assert!(inflate_reusing(b"\x78\x9cgarbage", 100).is_err());
        assert_eq!(inflate_reusing(&z, MAX_DATA).unwrap(), big);
        // decode_call keeps RQ's rule: garbage behind a zlib header is taken raw.
        assert!(decode_call(b"\x78\x9cgarbage")
            .unwrap_err()
            .contains("not JSON"));
    }

    #[test]
    fn null_results_are_omitted_and_tracebacks_bounded() {
        assert_eq!(return_value(&Value::Null), None);
        assert!(return_value(&json!({"a": 1})).is_some());
        let long = "é".repeat(MAX_TRACEBACK);
        assert_eq!(truncate(&long, MAX_TRACEBACK).len(), MAX_TRACEBACK);
        assert!(!exc_string(&long).is_empty());
    }
}
