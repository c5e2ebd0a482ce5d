//! Arena → `PyValue`: shared references are expanded under a node and byte budget, cycles
//! become `...`, depth is capped, and a few Python 2-era reduce forms are shown as plain data.

use super::{Id, Obj, MAX_DEPTH, MAX_OUT_BYTES, MAX_OUT_NODES};
use crate::value::PyValue;

pub(super) struct Output<'a> {
    pub arena: &'a [Obj],
    pub visiting: Vec<bool>,
    pub nodes: usize,
    pub bytes: usize,
    pub lossy: bool,
}

impl Output<'_> {
    pub fn convert(&mut self, id: Id, depth: usize) -> PyValue {
        self.nodes += 1;
        if self.nodes > MAX_OUT_NODES || self.bytes > MAX_OUT_BYTES {
            self.lossy = true;
            return PyValue::Opaque("…".into());
        }
        if depth > MAX_DEPTH {
            self.lossy = true;
            return PyValue::Opaque(format!("nested deeper than {MAX_DEPTH}"));
        }
        if self.visiting[id] {
            // Python shows a recursive reference as `[...]`.
            return PyValue::Opaque("...".into());
        }
        self.visiting[id] = true;
        let d = depth + 1;
        let v = match &self.arena[id] {
            Obj::Val(v) => {
                self.bytes += match v {
                    PyValue::Str(s)
                    | PyValue::Global(s)
                    | PyValue::BigInt(s)
                    | PyValue::Opaque(s) => s.len(),
                    PyValue::Bytes(b) => b.len(),
                    _ => 8,
                };
                if self.bytes > MAX_OUT_BYTES {
                    self.lossy = true;
                    PyValue::Opaque("…".into())
                } else {
                    v.clone()
                }
            }
            Obj::List(v) => PyValue::List(self.all(v, d)),
            Obj::Tuple(v) => PyValue::Tuple(self.all(v, d)),
            Obj::Set(v) => PyValue::Set(self.all(v, d)),
            Obj::FrozenSet(v) => PyValue::Call {
                func: Box::new(PyValue::Global("builtins.frozenset".into())),
                args: vec![PyValue::Set(self.all(v, d))],
            },
            Obj::Dict(p) => PyValue::Dict(self.pairs(p, d)),
            Obj::Call {
                func,
                args,
                items,
                pairs,
            } => {
                let func = self.convert(*func, d);
                let mut args = self.all(args, d);
                if !items.is_empty() {
                    args.push(PyValue::List(self.all(items, d)));
                }
                if !pairs.is_empty() {
                    args.push(PyValue::Dict(self.pairs(pairs, d)));
                }
                readable_call(func, args)
            }
            Obj::Build { obj, state, .. } => PyValue::Build {
                obj: Box::new(self.convert(*obj, d)),
                state: Box::new(self.convert(*state, d)),
            },
        };
        self.visiting[id] = false;
        v
    }
    fn all(&mut self, ids: &[Id], d: usize) -> Vec<PyValue> {
        ids.iter().map(|&i| self.convert(i, d)).collect()
    }
    fn pairs(&mut self, p: &[(Id, Id)], d: usize) -> Vec<(PyValue, PyValue)> {
        p.iter()
            .map(|&(k, v)| (self.convert(k, d), self.convert(v, d)))
            .collect()
    }
}

/// Rewrites the reduce forms Python 2-compatible pickles use for plain data into that data.
fn readable_call(func: PyValue, mut args: Vec<PyValue>) -> PyValue {
    let name = match &func {
        PyValue::Global(g) => g.as_str(),
        _ => "",
    };
    match (name, args.as_slice()) {
        // Protocol < 3 bytes: `_codecs.encode('\xff...', 'latin1')`.
        ("_codecs.encode", [PyValue::Str(s), PyValue::Str(enc)])
            if (enc == "latin1" || enc == "latin-1") && s.chars().all(|c| (c as u32) < 256) =>
        {
            PyValue::Bytes(s.chars().map(|c| c as u8).collect())
        }
        ("builtins.set", [PyValue::List(_)]) => match args.pop() {
            Some(PyValue::List(items)) => PyValue::Set(items),
            _ => PyValue::Set(Vec::new()),
        },
        ("builtins.frozenset", [PyValue::List(_)]) => match args.pop() {
            Some(PyValue::List(items)) => PyValue::Call {
                func: Box::new(func),
                args: vec![PyValue::Set(items)],
            },
            _ => PyValue::Set(Vec::new()),
        },
        // Protocol 0/1 plain objects: `copyreg._reconstructor(cls, object, None)` then BUILD.
        ("copyreg._reconstructor", [_, PyValue::Global(base), PyValue::None])
            if base == "builtins.object" =>
        {
            PyValue::Call {
                func: Box::new(args.swap_remove(0)),
                args: Vec::new(),
            }
        }
        _ => PyValue::Call {
            func: Box::new(func),
            args,
        },
    }
}
