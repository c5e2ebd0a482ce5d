//! `PyValue`: one tree for every decoded payload, whether it came from JSON or from pickle, so the
//! console renders both the same way. Pickle constructs that would need Python to evaluate
//! (globals, reduce calls, BUILD state) stay symbolic: nothing is ever executed.
//!
//! Rendering (`repr`, `pretty`) is bounded: a hostile payload can be large, but what we print of
//! it is not. Trees themselves are depth-limited by the decoders that build them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

mod text;

use text::Bounded;
pub use text::{bytes_repr, float_repr, str_repr, truncate_chars};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Values nest: `no_recursion` stops utoipa collecting this schema inside itself (it is a $ref).
#[cfg_attr(feature = "openapi", schema(no_recursion))]
#[serde(tag = "t", content = "v", rename_all = "lowercase")]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    /// Integers that do not fit i64, as decimal text.
    BigInt(String),
    /// Non-finite values travel as the strings `nan` / `inf` / `-inf` (JSON has no NaN, and
    /// serde_json would write `null`, which would not deserialize on the console's side).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::model::schema::WireFloat))]
    Float(#[serde(with = "text::float_serde")] f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<PyValue>),
    Tuple(Vec<PyValue>),
    Set(Vec<PyValue>),
    // Pairs as two-item arrays; a tuple would make utoipa inline the schema into itself.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<PyValue>>))]
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

#[cfg(test)]
mod tests;
