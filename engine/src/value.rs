//! `PyValue`: one tree for every decoded payload, whether it came from JSON or from pickle, so the
//! console renders both the same way. Pickle constructs that would need Python to evaluate
//! (globals, reduce calls, BUILD state) stay symbolic: nothing is ever executed.
//!
//! Rendering (`repr`, `pretty`) is bounded: a hostile payload can be large, but what we print of
//! it is not. Trees themselves are depth-limited by the decoders that build them.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "lowercase")]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    /// Integers that do not fit i64, as decimal text.
    BigInt(String),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<PyValue>),
    Tuple(Vec<PyValue>),
    Set(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
    /// A global reference such as `datetime.datetime` (GLOBAL / STACK_GLOBAL).
    Global(String),
    /// `callable(*args)` from REDUCE / NEWOBJ / NEWOBJ_EX / INST / OBJ, never evaluated.
    Call {
        func: Box<PyValue>,
        args: Vec<PyValue>,
    },
    /// `obj` with BUILD state applied (shown as `obj.__setstate__(state)`).
    Build {
        obj: Box<PyValue>,
        state: Box<PyValue>,
    },
    /// Something shown only by name (persistent ids, extension codes, cut-off depth).
    Opaque(String),
}

/// Default bound for `repr` output, in bytes.
pub const REPR_LIMIT: usize = 4096;
/// Default bound for `pretty` output, in bytes.
pub const PRETTY_LIMIT: usize = 64 * 1024;
/// `pretty` keeps a container on one line when its repr fits in this many bytes.
const PRETTY_INLINE: usize = 72;

/// Formats a float like Python's `repr(float)`: shortest round-trip digits, `1.0` not `1`,
/// exponent form (`1e-05`, `1e+16`) outside `1e-4 <= |x| < 1e16`, `inf` / `nan`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` yields the shortest round-trip digits, e.g. `-1.2345e17`.
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exp.unsigned_abs());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
    out
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`.
pub fn str_repr(s: &str, out: &mut String) {
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
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            // Python escapes what `str.isprintable()` rejects: controls, format characters,
            // separators other than ' ', private use (unassigned code points are not tracked).
            c if !py_printable(c) => {
                let n = c as u32;
                let _ = if n <= 0xff {
                    write!(out, "\\x{n:02x}")
                } else if n <= 0xffff {
                    write!(out, "\\u{n:04x}")
                } else {
                    write!(out, "\\U{n:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// An approximation of Python's `str.isprintable()` without Unicode tables: the categories
/// Cc, Cf, Zs (except ' '), Zl, Zp, Cs, Co are not printable.
fn py_printable(c: char) -> bool {
    let n = c as u32;
    !(c.is_control()
        || matches!(
            n,
            0xa0 | 0xad
                | 0x600..=0x605
                | 0x61c
                | 0x6dd
                | 0x70f
                | 0x1680
                | 0x180e
                | 0x2000..=0x200f
                | 0x2028..=0x202f
                | 0x205f..=0x2064
                | 0x2066..=0x206f
                | 0x3000
                | 0xe000..=0xf8ff
                | 0xfeff
                | 0xfff9..=0xfffb
                | 0x110bd
                | 0x1d173..=0x1d17a
                | 0xe0001
                | 0xe0020..=0xe007f
                | 0xf0000..
        ))
}

/// Python's `repr(bytes)`.
pub fn bytes_repr(b: &[u8], out: &mut String) {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    out.push('b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c as char == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(quote);
}

/// A string sink that stops accepting text once `limit` bytes are written.
struct Bounded {
    out: String,
    limit: usize,
    cut: bool,
}

impl Bounded {
    fn new(limit: usize) -> Bounded {
        Bounded {
            out: String::new(),
            limit,
            cut: false,
        }
    }
    fn full(&self) -> bool {
        self.cut
    }
    fn push(&mut self, s: &str) {
        if self.cut {
            return;
        }
        let room = self.limit.saturating_sub(self.out.len());
        if s.len() <= room {
            self.out.push_str(s);
        } else {
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.out.push_str(&s[..end]);
            self.out.push('…');
            self.cut = true;
        }
    }
    fn finish(self) -> String {
        self.out
    }
}

impl PyValue {
    /// Python-like `repr`, at most about `REPR_LIMIT` bytes (cut with `…`).
    pub fn repr(&self) -> String {
        self.repr_limited(REPR_LIMIT)
    }

    pub fn repr_limited(&self, limit: usize) -> String {
        let mut b = Bounded::new(limit);
        self.write_repr(&mut b);
        b.finish()
    }

    fn write_repr(&self, b: &mut Bounded) {
        if b.full() {
            return;
        }
        match self {
            PyValue::None => b.push("None"),
            PyValue::Bool(true) => b.push("True"),
            PyValue::Bool(false) => b.push("False"),
            PyValue::Int(i) => b.push(&i.to_string()),
            PyValue::BigInt(s) => b.push(s),
            PyValue::Float(f) => b.push(&float_repr(*f)),
            PyValue::Str(s) => {
                let mut t = String::new();
                // Repr of a huge string is cut anyway; don't escape megabytes first.
                let head = truncate_chars(s, b.limit);
                str_repr(head, &mut t);
                b.push(&t);
            }
            PyValue::Bytes(v) => {
                let mut t = String::new();
                bytes_repr(&v[..v.len().min(b.limit)], &mut t);
                b.push(&t);
            }
            PyValue::List(items) => write_seq(b, "[", items, "]"),
            PyValue::Tuple(items) if items.len() == 1 => {
                b.push("(");
                items[0].write_repr(b);
                b.push(",)");
            }
            PyValue::Tuple(items) => write_seq(b, "(", items, ")"),
            PyValue::Set(items) if items.is_empty() => b.push("set()"),
            PyValue::Set(items) => write_seq(b, "{", items, "}"),
            PyValue::Dict(pairs) => {
                b.push("{");
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if b.full() {
                        return;
                    }
                    if i > 0 {
                        b.push(", ");
                    }
                    k.write_repr(b);
                    b.push(": ");
                    v.write_repr(b);
                }
                b.push("}");
            }
            PyValue::Global(name) => b.push(name),
            PyValue::Call { func, args } => {
                func.write_repr(b);
                write_seq(b, "(", args, ")");
            }
            PyValue::Build { obj, state } => match (obj.as_ref(), state.as_ref()) {
                // The common "plain object" case reads best as `mod.Class(a=1, b=2)`.
                (PyValue::Call { func, args }, PyValue::Dict(pairs))
                    if args.is_empty()
                        && pairs.iter().all(|(k, _)| matches!(k, PyValue::Str(_))) =>
                {
                    func.write_repr(b);
                    b.push("(");
                    for (i, (k, v)) in pairs.iter().enumerate() {
                        if i > 0 {
                            b.push(", ");
                        }
                        if let PyValue::Str(k) = k {
                            b.push(k);
                        }
                        b.push("=");
                        v.write_repr(b);
                    }
                    b.push(")");
                }
                _ => {
                    obj.write_repr(b);
                    b.push(".__setstate__(");
                    state.write_repr(b);
                    b.push(")");
                }
            },
            PyValue::Opaque(s) => {
                b.push("<");
                b.push(s);
                b.push(">");
            }
        }
    }

    /// Indented multi-line rendering for the job page; small containers stay on one line.
    pub fn pretty(&self) -> String {
        let mut b = Bounded::new(PRETTY_LIMIT);
        self.write_pretty(&mut b, 0);
        b.finish()
    }

    fn write_pretty(&self, b: &mut Bounded, indent: usize) {
        if b.full() {
            return;
        }
        let inline = self.repr_limited(PRETTY_INLINE + 1);
        if inline.len() <= PRETTY_INLINE && !inline.ends_with('…') {
            b.push(&inline);
            return;
        }
        let pad = "  ".repeat(indent + 1);
        let close_pad = "  ".repeat(indent);
        let (open, close, items): (String, &str, Vec<Item<'_>>) = match self {
            PyValue::List(v) => ("[".into(), "]", v.iter().map(Item::One).collect()),
            PyValue::Tuple(v) => ("(".into(), ")", v.iter().map(Item::One).collect()),
            PyValue::Set(v) => ("{".into(), "}", v.iter().map(Item::One).collect()),
            PyValue::Dict(v) => (
                "{".into(),
                "}",
                v.iter().map(|(k, v)| Item::Pair(k, v)).collect(),
            ),
            PyValue::Call { func, args } => (
                format!("{}(", func.repr_limited(200)),
                ")",
                args.iter().map(Item::One).collect(),
            ),
            PyValue::Build { obj, state } => {
                obj.write_pretty(b, indent);
                b.push(".__setstate__(");
                state.write_pretty(b, indent);
                b.push(")");
                return;
            }
            _ => {
                b.push(&self.repr_limited(PRETTY_LIMIT));
                return;
            }
        };
        b.push(&open);
        b.push("\n");
        for item in items {
            if b.full() {
                return;
            }
            b.push(&pad);
            match item {
                Item::One(v) => v.write_pretty(b, indent + 1),
                Item::Pair(k, v) => {
                    b.push(&k.repr_limited(200));
                    b.push(": ");
                    v.write_pretty(b, indent + 1);
                }
            }
            b.push(",\n");
        }
        b.push(&close_pad);
        b.push(close);
    }

    /// Builds a value from JSON (objects become `Dict` with `Str` keys, in the map's order).
    pub fn from_json(v: &Value) -> PyValue {
        match v {
            Value::Null => PyValue::None,
            Value::Bool(b) => PyValue::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    PyValue::Int(i)
                } else if let Some(u) = n.as_u64() {
                    PyValue::BigInt(u.to_string())
                } else {
                    PyValue::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => PyValue::Str(s.clone()),
            Value::Array(a) => PyValue::List(a.iter().map(PyValue::from_json).collect()),
            Value::Object(m) => PyValue::Dict(
                m.iter()
                    .map(|(k, v)| (PyValue::Str(k.clone()), PyValue::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// JSON for the API: JSON-like values map to themselves (so JSON payloads round-trip
    /// exactly); everything else is tagged (`{"$tuple": [...]}`, `{"$bytes": base64}`,
    /// `{"$call": f, "args": [...]}`, `{"$dict": [[k, v], ...]}` for non-string keys, ...).
    /// A user dict that happens to look like a tag is not escaped: this is a display format.
    pub fn to_json(&self) -> Value {
        use base64::Engine as _;
        match self {
            PyValue::None => Value::Null,
            PyValue::Bool(b) => Value::Bool(*b),
            PyValue::Int(i) => json!(i),
            PyValue::BigInt(s) => match s.parse::<u64>() {
                Ok(u) => json!(u),
                Err(_) => json!({ "$bigint": s }),
            },
            PyValue::Float(f) if f.is_finite() => json!(f),
            PyValue::Float(f) => json!({ "$float": float_repr(*f) }),
            PyValue::Str(s) => Value::String(s.clone()),
            PyValue::Bytes(b) => {
                json!({ "$bytes": base64::engine::general_purpose::STANDARD.encode(b) })
            }
            PyValue::List(v) => Value::Array(v.iter().map(PyValue::to_json).collect()),
            PyValue::Tuple(v) => {
                json!({ "$tuple": v.iter().map(PyValue::to_json).collect::<Vec<_>>() })
            }
            PyValue::Set(v) => {
                json!({ "$set": v.iter().map(PyValue::to_json).collect::<Vec<_>>() })
            }
            PyValue::Dict(pairs) => {
                let str_keys = pairs.iter().all(|(k, _)| matches!(k, PyValue::Str(_)));
                if str_keys {
                    let mut m = Map::new();
                    for (k, v) in pairs {
                        if let PyValue::Str(k) = k {
                            m.insert(k.clone(), v.to_json());
                        }
                    }
                    Value::Object(m)
                } else {
                    let items: Vec<Value> = pairs
                        .iter()
                        .map(|(k, v)| json!([k.to_json(), v.to_json()]))
                        .collect();
                    json!({ "$dict": items })
                }
            }
            PyValue::Global(g) => json!({ "$global": g }),
            PyValue::Call { func, args } => json!({
                "$call": func.to_json(),
                "args": args.iter().map(PyValue::to_json).collect::<Vec<_>>(),
            }),
            PyValue::Build { obj, state } => {
                json!({ "$build": obj.to_json(), "state": state.to_json() })
            }
            PyValue::Opaque(s) => json!({ "$opaque": s }),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

enum Item<'a> {
    One(&'a PyValue),
    Pair(&'a PyValue, &'a PyValue),
}

fn write_seq(b: &mut Bounded, open: &str, items: &[PyValue], close: &str) {
    b.push(open);
    for (i, v) in items.iter().enumerate() {
        if b.full() {
            return;
        }
        if i > 0 {
            b.push(", ");
        }
        v.write_repr(b);
    }
    b.push(close);
}

/// The longest prefix of `s` with at most `max` bytes, on a char boundary.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_match_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (1e-05, "1e-05"),
            (1.5e300, "1.5e+300"),
            (-2.5e-7, "-2.5e-07"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.1, "0.1"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (1234.5, "1234.5"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f:e}");
        }
    }

    #[test]
    fn repr_looks_like_python() {
        let v = PyValue::Tuple(vec![
            PyValue::Str("it's".into()),
            PyValue::Bytes(b"a\x00'".to_vec()),
            PyValue::Tuple(vec![PyValue::Int(1)]),
            PyValue::Set(vec![]),
            PyValue::Dict(vec![(PyValue::Str("k".into()), PyValue::None)]),
            PyValue::Bool(true),
        ]);
        assert_eq!(
            v.repr(),
            r#"("it's", b"a\x00'", (1,), set(), {'k': None}, True)"#
        );
        let long = PyValue::Str("x".repeat(10_000));
        assert!(long.repr().len() <= REPR_LIMIT + 4);
    }

    #[test]
    fn build_of_plain_object_reads_as_constructor() {
        let v = PyValue::Build {
            obj: Box::new(PyValue::Call {
                func: Box::new(PyValue::Global("m.P".into())),
                args: vec![],
            }),
            state: Box::new(PyValue::Dict(vec![(
                PyValue::Str("x".into()),
                PyValue::Int(1),
            )])),
        };
        assert_eq!(v.repr(), "m.P(x=1)");
    }

    #[test]
    fn json_round_trip_and_tags() {
        let j = json!({"a": [1, 2.5, null, true, "é"], "b": {"c": 18446744073709551615u64}});
        assert_eq!(PyValue::from_json(&j).to_json(), j);
        assert_eq!(
            PyValue::Tuple(vec![PyValue::Int(1)]).to_json(),
            json!({"$tuple": [1]})
        );
        assert_eq!(
            PyValue::Bytes(b"hi".to_vec()).to_json(),
            json!({"$bytes": "aGk="})
        );
    }

    #[test]
    fn pretty_breaks_long_containers() {
        let v = PyValue::List((0..40).map(|i| PyValue::Str(format!("item-{i}"))).collect());
        let p = v.pretty();
        assert!(p.starts_with("[\n  'item-0',\n"), "{p}");
        assert!(p.ends_with("\n]"));
    }
}
