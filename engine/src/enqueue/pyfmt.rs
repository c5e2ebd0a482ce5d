//! RQ's default job `description`: the Python call string, built from `repr()` of the
//! JSON-decoded arguments exactly as a Python producer would print them.

use serde_json::{Number, Value};

/// RQ cuts each argument's repr to this many characters and appends `...`.
const MAX_ARG_REPR: usize = 75;

/// RQ's default description: `func(repr(a), ..., k=repr(v), ...)`, the `k=v` strings sorted,
/// every repr cut to 75 characters + `...`.
pub fn call_string(func: &str, args: &[Value], kwargs: &serde_json::Map<String, Value>) -> String {
    let mut parts: Vec<String> = args.iter().map(|a| truncate(repr(a))).collect();
    let mut kw: Vec<String> = kwargs
        .iter()
        .map(|(k, v)| format!("{k}={}", truncate(repr(v))))
        .collect();
    // Python sorts the formatted `k=v` strings by code point; UTF-8 byte order is the same order.
    kw.sort();
    parts.extend(kw);
    format!("{func}({})", parts.join(", "))
}

fn truncate(s: String) -> String {
    match s.char_indices().nth(MAX_ARG_REPR) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s,
    }
}

/// Python's `repr()` of the value `json.loads` would produce.
pub fn repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(v, &mut out);
    out
}

fn write_repr(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => repr_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_str(k, out);
                out.push_str(": ");
                write_repr(item, out);
            }
            out.push('}');
        }
    }
}

/// `str.__repr__`: single quotes unless the text has `'` and no `"`; printable non-ASCII is kept.
fn repr_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !c.is_ascii() && !py_printable(c) => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Approximates `str.isprintable()` for non-ASCII without Unicode tables: the control, format,
/// separator and private-use ranges a payload is likely to contain. Unassigned code points
/// (which Python escapes) are kept as-is; that only changes the human-readable description.
fn py_printable(c: char) -> bool {
    let n = c as u32;
    !matches!(n,
        0x80..=0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x1680 | 0x180e
        | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f | 0x3000
        | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb | 0x110bd | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f | 0xf0000..=0x10ffff)
}

fn number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        crate::value::float_repr(n.as_f64().unwrap_or(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_like_python() {
        let v = json!([1.0, 1e16, 0.00001, -3, null, true, "x"]);
        assert_eq!(repr(&v), "[1.0, 1e+16, 1e-05, -3, None, True, 'x']");
    }

    #[test]
    fn call_strings_like_rq() {
        let kwargs = json!({"z": 1, "k": "v", "a_long": "x".repeat(80)});
        let s = call_string(
            "exptasks.add",
            &[
                json!(1),
                json!("it's"),
                json!(null),
                json!([1.5, {"k": false}]),
            ],
            kwargs.as_object().unwrap(),
        );
        let long = format!("'{}...", "x".repeat(74));
        assert_eq!(
            s,
            format!(
                r#"exptasks.add(1, "it's", None, [1.5, {{'k': False}}], a_long={long}, k='v', z=1)"#
            )
        );
        assert_eq!(repr(&json!("a'b\"c\u{0}é\u{a0}")), r#"'a\'b"c\x00é\xa0'"#);
        assert_eq!(call_string("f", &[], &serde_json::Map::new()), "f()");
    }
}
