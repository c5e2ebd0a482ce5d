//! Encodings the worker writes and reads: Python-`json.dumps`-compatible JSON text, base64,
//! zlib (bounded on the way in), and the `data` 4-tuple decoder. Private to the worker so it does
//! not wait on the codec module; the formats are RQ's (schema sections 1, 5.2 and 6).

use std::io::{self, Read, Write};

use base64::Engine as _;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde_json::ser::Formatter;
use serde_json::{Map, Value};

/// Largest decompressed `data` payload the worker accepts (hostile input is bounded).
pub const MAX_DATA: u64 = 32 * 1024 * 1024;
/// Longest traceback stored in a result entry.
pub const MAX_TRACEBACK: usize = 64 * 1024;

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `exc_string` of a result entry: base64(zlib(utf-8 text)).
pub fn exc_string(text: &str) -> String {
    let text = truncate(text, MAX_TRACEBACK);
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(text.as_bytes());
    b64(&z.finish().unwrap_or_default())
}

/// `return_value` of a result entry: base64 of the JSON text; `None` for null (RQ omits it).
pub fn return_value(v: &Value) -> Option<String> {
    if v.is_null() {
        None
    } else {
        Some(b64(python_json(v).as_bytes()))
    }
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

/// Python's `json.dumps(v)`: `", "` / `": "` separators, `ensure_ascii`, Python float repr.
pub fn python_json(v: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFormatter);
    if serde::Serialize::serialize(v, &mut ser).is_err() {
        return "null".into();
    }
    String::from_utf8(out).unwrap_or_else(|_| "null".into())
}

struct PyFormatter;

impl Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        w.write_all(py_float(v).as_bytes())
    }
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        // ensure_ascii: everything outside ' '..='~' as \uXXXX (UTF-16 units, lowercase hex).
        for c in s.chars() {
            if (' '..='~').contains(&c) {
                w.write_all(&[c as u8])?;
            } else {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Python's float `repr`: shortest round-trip digits, exponent form outside 1e-4 ..< 1e16.
fn py_float(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    }
}

/// A job call decoded from `data` (JSON serializer): `[func, null, [args], {kwargs}]`.
#[derive(Debug, PartialEq)]
pub struct JsonCall {
    pub func: String,
    pub args: Vec<Value>,
    pub kwargs: Map<String, Value>,
}

/// zlib-or-raw, then the 4-tuple. The error text becomes the job's traceback.
pub fn decode_call(data: &[u8]) -> Result<JsonCall, String> {
    let raw = inflate_or_raw(data)?;
    let v: Value = serde_json::from_slice(&raw)
        .map_err(|e| format!("job data is not JSON ({e}); is this a pickle job?"))?;
    let Value::Array(mut parts) = v else {
        return Err("job data is not a [func, instance, args, kwargs] array".into());
    };
    if parts.len() != 4 {
        return Err(format!("job data has {} elements, expected 4", parts.len()));
    }
    let kwargs = parts.pop();
    let args = parts.pop();
    let instance = parts.pop();
    let func = parts.pop();
    match (func, instance, args, kwargs) {
        (
            Some(Value::String(func)),
            Some(Value::Null),
            Some(Value::Array(args)),
            Some(Value::Object(kwargs)),
        ) => Ok(JsonCall { func, args, kwargs }),
        _ => Err("job data must be [string, null, array, object]".into()),
    }
}

fn inflate_or_raw(data: &[u8]) -> Result<Vec<u8>, String> {
    if data.len() >= 2 && data[0] == 0x78 {
        let mut out = Vec::new();
        let mut dec = ZlibDecoder::new(data).take(MAX_DATA + 1);
        if dec.read_to_end(&mut out).is_ok() {
            if out.len() as u64 > MAX_DATA {
                return Err(format!("job data inflates past {MAX_DATA} bytes"));
            }
            return Ok(out);
        }
    }
    if data.len() as u64 > MAX_DATA {
        return Err(format!("job data is larger than {MAX_DATA} bytes"));
    }
    Ok(data.to_vec())
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
    fn json_is_spaced_and_escaped_like_python() {
        let v = json!({"args": [1, 2.5, "é"], "kwargs": {"k": null, "f": 1e20}});
        assert_eq!(
            python_json(&v),
            r#"{"args": [1, 2.5, "\u00e9"], "kwargs": {"f": 1e+20, "k": null}}"#
        );
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.00001), "1e-05");
        assert_eq!(py_float(123.25), "123.25");
        assert_eq!(python_json(&json!("😀")), r#""\ud83d\ude00""#);
    }

    #[test]
    fn decodes_raw_and_zlib_calls_and_rejects_others() {
        let raw = br#"["m.f", null, [2, 3], {"a": 1}]"#;
        let call = decode_call(raw).unwrap();
        assert_eq!(call.func, "m.f");
        assert_eq!(call.args, vec![json!(2), json!(3)]);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(raw).unwrap();
        assert_eq!(decode_call(&z.finish().unwrap()).unwrap(), call);
        assert!(decode_call(b"\x80\x05garbage").is_err());
        assert!(decode_call(br#"["m.f", null, [2]]"#).is_err());
        assert!(decode_call(br#"[1, null, [], {}]"#).is_err());
        assert!(decode_call(b"").is_err());
    }
}
