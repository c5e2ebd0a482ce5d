//! JSON as Python's `json` module reads and writes it (RQ's `JSONSerializer`).
//!
//! Reading is a small hand-written parser rather than serde_json because Python's dialect differs
//! where it matters for display: object key order is kept, `NaN` / `Infinity` are accepted,
//! integers are unbounded, and a lone `\ud800` escape is legal. Writing reproduces
//! `json.dumps(obj)` defaults byte for byte, which RQ producers and dashboards expect.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::value::{float_repr, PyValue};

/// Deeper containers are shown as an opaque marker instead of being decoded.
pub const MAX_DEPTH: usize = 100;
/// Upper bound on decoded values (each costs a `PyValue`).
pub const MAX_NODES: usize = 500_000;
/// Longest integer literal decoded as a number (Python's own limit is 4300 digits).
pub const MAX_INT_DIGITS: usize = 4300;

/// Decodes UTF-8 JSON text into a `PyValue`; `lossy` is set when something was replaced
/// (lone surrogates, too-deep containers).
pub fn loads(bytes: &[u8]) -> Result<(PyValue, bool), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        nodes: 0,
        lossy: false,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(format!("extra data at byte {}", p.pos));
    }
    Ok((v, p.lossy))
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    nodes: usize,
    lossy: bool,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.pos))
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<PyValue, String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return self.err("too many values");
        }
        match self.s.get(self.pos) {
            None => self.err("unexpected end"),
            Some(b'{' | b'[') if depth >= MAX_DEPTH => {
                self.skip_container()?;
                self.lossy = true;
                Ok(PyValue::Opaque(format!("nested deeper than {MAX_DEPTH}")))
            }
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(PyValue::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ if self.eat("null") => Ok(PyValue::None),
            _ if self.eat("true") => Ok(PyValue::Bool(true)),
            _ if self.eat("false") => Ok(PyValue::Bool(false)),
            _ if self.eat("NaN") => Ok(PyValue::Float(f64::NAN)),
            _ if self.eat("Infinity") => Ok(PyValue::Float(f64::INFINITY)),
            _ => self.err("expecting value"),
        }
    }

    fn array(&mut self, depth: usize) -> Result<PyValue, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.eat("]") {
            return Ok(PyValue::List(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("]") {
                return Ok(PyValue::List(items));
            }
            return self.err("expecting ',' or ']'");
        }
    }

    fn object(&mut self, depth: usize) -> Result<PyValue, String> {
        self.pos += 1;
        let mut pairs: Vec<(PyValue, PyValue)> = Vec::new();
        // Python keeps the last value of a duplicated key, at the first key's position.
        let mut index: HashMap<String, usize> = HashMap::new();
        self.ws();
        if self.eat("}") {
            return Ok(PyValue::Dict(pairs));
        }
        loop {
            self.ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return self.err("expecting property name");
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(":") {
                return self.err("expecting ':'");
            }
            self.ws();
            let v = self.value(depth + 1)?;
            match index.get(&key) {
                Some(&i) => pairs[i].1 = v,
                None => {
                    index.insert(key.clone(), pairs.len());
                    pairs.push((PyValue::Str(key), v));
                }
            }
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("}") {
                return Ok(PyValue::Dict(pairs));
            }
            return self.err("expecting ',' or '}'");
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or("truncated \\u escape")?;
        let h = std::str::from_utf8(h).map_err(|_| "bad \\u escape")?;
        let n = u32::from_str_radix(h, 16)
            .map_err(|_| format!("bad \\u escape at byte {}", self.pos))?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return self.err("bad \\u escape");
        }
        self.pos += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.s.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // `start..pos` lies between ASCII bytes, so it is on char boundaries.
            out.push_str(&self.text[start..self.pos]);
            match self.s.get(self.pos) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(&e) = self.s.get(self.pos) else {
                        return self.err("unterminated string");
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\x08'),
                        b'f' => out.push('\x0c'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xd800..0xdc00).contains(&hi)
                                && self.s[self.pos..].starts_with(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            // Python keeps lone surrogates; Rust strings cannot hold them.
                            out.push(c.unwrap_or_else(|| {
                                self.lossy = true;
                                '\u{fffd}'
                            }));
                        }
                        _ => return self.err("invalid \\escape"),
                    }
                }
                Some(_) => return self.err("invalid control character"),
            }
        }
    }

    fn number(&mut self) -> Result<PyValue, String> {
        let start = self.pos;
        if self.eat("-Infinity") {
            return Ok(PyValue::Float(f64::NEG_INFINITY));
        }
        self.eat("-");
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.s.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - s
        };
        let int_start = self.pos;
        let n = digits(self);
        if n == 0 || (n > 1 && self.s[int_start] == b'0') {
            // Python reads `01` as `0` then fails on extra data; both are errors here.
            if n == 0 {
                return self.err("expecting value");
            }
            self.pos = int_start + 1;
            return Ok(PyValue::Int(0));
        }
        let mut is_float = false;
        if self.s.get(self.pos) == Some(&b'.')
            && self.s.get(self.pos + 1).is_some_and(u8::is_ascii_digit)
        {
            self.pos += 1;
            digits(self);
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.s.get(self.pos) {
            let save = self.pos;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.s.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                self.pos = save;
            } else {
                is_float = true;
            }
        }
        let lit = &self.text[start..self.pos];
        if is_float {
            return lit
                .parse::<f64>()
                .map(PyValue::Float)
                .map_err(|e| e.to_string());
        }
        if let Ok(i) = lit.parse::<i64>() {
            return Ok(PyValue::Int(i));
        }
        if n > MAX_INT_DIGITS {
            return self.err("integer literal too long");
        }
        Ok(PyValue::BigInt(lit.to_string()))
    }

    /// Skips a container without recursion (brackets counted outside strings).
    fn skip_container(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        let mut in_str = false;
        while let Some(&b) = self.s.get(self.pos) {
            self.pos += 1;
            if in_str {
                match b {
                    b'\\' => self.pos += 1,
                    b'"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        self.err("unterminated container")
    }
}

/// `json.dumps(value)` with Python's defaults: `", "` / `": "` separators, `ensure_ascii=True`
/// (`\uXXXX`, astral characters as surrogate pairs), floats as Python's `repr`.
pub fn dumps_python(v: &Value) -> String {
    let mut out = String::new();
    write_value(v, &mut out);
    out
}

fn write_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                out.push_str(&json_float(n.as_f64().unwrap_or(f64::NAN)));
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(k, out);
                out.push_str(": ");
                write_value(x, out);
            }
            out.push('}');
        }
    }
}

/// A float as Python's json writes it: `repr`, with `NaN` / `Infinity` / `-Infinity`.
pub fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        float_repr(f)
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dumps_matches_python_defaults() {
        // Expected strings produced by CPython 3.11 `json.dumps`.
        let v = json!(["rq_fixture_tasks.echo", null, ["h\u{e9}llo \u{1f680} \u{7f}"], {"flag": true, "n": 1}]);
        assert_eq!(
            dumps_python(&v),
            r#"["rq_fixture_tasks.echo", null, ["h\u00e9llo \ud83d\ude80 \u007f"], {"flag": true, "n": 1}]"#
        );
        assert_eq!(
            dumps_python(&json!([1.0, 1e-5, 1e16, 0.5, -3])),
            "[1.0, 1e-05, 1e+16, 0.5, -3]"
        );
        assert_eq!(
            dumps_python(&json!({"a": {}, "b": []})),
            r#"{"a": {}, "b": []}"#
        );
        assert_eq!(
            dumps_python(&json!("tab\tq\"\\\u{1}")),
            r#""tab\tq\"\\\u0001""#
        );
    }

    #[test]
    fn loads_python_dialect() {
        let (v, lossy) = loads(
            br#"{"b": 1, "a": [NaN, -Infinity, 1e400, 123456789012345678901234567890], "b": 2}"#,
        )
        .unwrap();
        assert!(!lossy);
        let PyValue::Dict(pairs) = v else { panic!() };
        assert_eq!(pairs[0], (PyValue::Str("b".into()), PyValue::Int(2)));
        let PyValue::List(items) = &pairs[1].1 else {
            panic!()
        };
        assert!(matches!(items[0], PyValue::Float(f) if f.is_nan()));
        assert_eq!(items[1], PyValue::Float(f64::NEG_INFINITY));
        assert_eq!(items[2], PyValue::Float(f64::INFINITY));
        assert_eq!(
            items[3],
            PyValue::BigInt("123456789012345678901234567890".into())
        );
        let (v, _) = loads(br#""\ud83d\ude80 \u00e9""#).unwrap();
        assert_eq!(v, PyValue::Str("\u{1f680} \u{e9}".into()));
        let (v, lossy) = loads(br#""\ud800x""#).unwrap();
        assert!(lossy);
        assert_eq!(v, PyValue::Str("\u{fffd}x".into()));
    }

    #[test]
    fn loads_rejects_and_bounds() {
        for bad in [
            &b"[1,]"[..],
            b"{1: 2}",
            b"\"a\nb\"",
            b"[1] x",
            b"",
            b"01",
            b"\"\\x\"",
            b"tru",
        ] {
            assert!(loads(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let (v, lossy) = loads(deep.as_bytes()).unwrap();
        assert!(lossy);
        assert!(v.repr().contains("nested deeper"));
    }
}
