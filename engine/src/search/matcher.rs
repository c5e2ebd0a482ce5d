//! Does one job match a query? Works on the few hash fields the scan read (pipelined HMGET) and
//! the latest results-stream traceback. Cheap tests run first (queue, status, worker, function
//! name from the payload's head); the payload is decoded — never executed: `codec` is a
//! symbolic decoder — only when free text or `exc:` must be matched. Everything is a
//! case-insensitive substring test over bounded text, so no job and no query can make it slow.

use crate::codec;
use crate::model::Decoded;
use crate::result;
use crate::value::PyValue;

use super::query::Query;

/// Bytes of searchable text taken from one payload (args, kwargs, meta each).
pub const TEXT_LIMIT: usize = 64 * 1024;

/// The fields of one job the scan read (`None`: absent).
#[derive(Default)]
pub struct Fields {
    pub status: Option<Vec<u8>>,
    pub origin: Option<Vec<u8>>,
    pub worker: Option<Vec<u8>>,
    pub description: Option<Vec<u8>>,
    pub data: Option<Vec<u8>>,
    pub exc_info: Option<Vec<u8>>,
    pub meta: Option<Vec<u8>>,
    /// The latest `rq:results:<id>` entry's `exc_string` (base64 of zlib).
    pub exc_string: Option<Vec<u8>>,
}

/// The hash fields a query needs, in the order `Fields::from_values` expects them.
pub fn field_names(q: &Query) -> Vec<&'static str> {
    let mut names = vec!["status", "origin"];
    if q.worker.is_some() {
        names.push("worker_name");
    }
    if q.func.is_some() || q.needs_text() {
        names.extend(["description", "data"]);
    }
    if q.needs_text() {
        names.extend(["exc_info", "meta"]);
    }
    names
}

impl Fields {
    /// From an HMGET reply in `field_names` order.
    pub fn from_values(names: &[&str], values: Vec<Option<Vec<u8>>>) -> Fields {
        let mut f = Fields::default();
        for (name, v) in names.iter().zip(values) {
            let v = v.filter(|b| !b.is_empty());
            match *name {
                "status" => f.status = v,
                "origin" => f.origin = v,
                "worker_name" => f.worker = v,
                "description" => f.description = v,
                "data" => f.data = v,
                "exc_info" => f.exc_info = v,
                _ => f.meta = v,
            }
        }
        f
    }

    /// Whether the hash exists at all (a listed id whose hash is gone matches nothing).
    pub fn exists(&self) -> bool {
        self.status.is_some() || self.origin.is_some() || self.data.is_some()
    }
}

/// Whether `f` matches every part of `q`.
pub fn matches(q: &Query, f: &Fields) -> bool {
    if !f.exists() {
        return false;
    }
    let text = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
            .unwrap_or_default()
    };
    if q.queue
        .as_ref()
        .is_some_and(|want| *want != text(&f.origin))
    {
        return false;
    }
    if q.status
        .as_ref()
        .is_some_and(|want| *want != text(&f.status))
    {
        return false;
    }
    if let Some(want) = &q.worker {
        if !contains(&text(&f.worker), want) {
            return false;
        }
    }
    let func = || {
        f.data
            .as_deref()
            .and_then(codec::func_name_hint)
            .or_else(|| {
                let d = text(&f.description);
                d.split_once('(').map(|(head, _)| head.to_string())
            })
            .unwrap_or_default()
    };
    if let Some(want) = &q.func {
        if !contains(&func(), want) {
            return false;
        }
    }
    if !q.needs_text() {
        return true;
    }
    let exc = exception_text(f);
    if q.exc.as_ref().is_some_and(|want| !contains(&exc, want)) {
        return false;
    }
    if q.terms.is_empty() {
        return true;
    }
    let haystack = [
        call_text(f.data.as_deref()),
        text(&f.description),
        exc,
        f.meta.as_deref().map(value_text).unwrap_or_default(),
    ]
    .join("\n")
    .to_lowercase();
    q.terms.iter().all(|t| haystack.contains(t.as_str()))
}

/// `needle` is already lowercase.
fn contains(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(needle)
}

/// The latest traceback: the results stream's, else the legacy zlib'd `exc_info`.
fn exception_text(f: &Fields) -> String {
    if let Some(b) = &f.exc_string {
        return result::decode_exc_string(b);
    }
    f.exc_info
        .as_deref()
        .and_then(|b| codec::zlib::inflate_or_raw(b, result::MAX_EXC_BYTES).ok())
        .map(|t| String::from_utf8_lossy(&t).into_owned())
        .unwrap_or_default()
}

/// Function name, args and kwargs as displayed (`repr`), plus every string inside them raw (so
/// a needle with quotes or backslashes matches what the job was called with). An undecodable
/// payload is searched through its escaped preview.
fn call_text(data: Option<&[u8]>) -> String {
    let Some(data) = data else {
        return String::new();
    };
    match codec::decode_data(data) {
        Ok(call) => {
            let mut out = Bounded(String::new());
            out.push(&call.func_name);
            for a in &call.args {
                out.push(&a.repr_limited(TEXT_LIMIT));
                leaves(a, &mut out, 0);
            }
            for (k, v) in &call.kwargs {
                out.push(&format!("{k}={}", v.repr_limited(TEXT_LIMIT)));
                leaves(v, &mut out, 0);
            }
            out.0
        }
        Err(Decoded::Undecodable { raw, .. }) => raw,
        Err(Decoded::Ok { .. }) => String::new(),
    }
}

fn value_text(raw: &[u8]) -> String {
    match codec::decode_value(raw) {
        Decoded::Ok { value, .. } => {
            let mut out = Bounded(value.repr_limited(TEXT_LIMIT));
            leaves(&value, &mut out, 0);
            out.0
        }
        Decoded::Undecodable { raw, .. } => raw,
    }
}

/// Text capped at [`TEXT_LIMIT`] × 4 (repr plus raw strings of args, kwargs).
struct Bounded(String);

impl Bounded {
    fn push(&mut self, s: &str) {
        if self.0.len() < TEXT_LIMIT * 4 {
            self.0.push('\n');
            self.0.push_str(crate::value::truncate_chars(
                s,
                TEXT_LIMIT * 4 - self.0.len(),
            ));
        }
    }
}

/// Raw string and bytes leaves, depth-bounded.
fn leaves(v: &PyValue, out: &mut Bounded, depth: usize) {
    if depth > 32 || out.0.len() >= TEXT_LIMIT * 4 {
        return;
    }
    match v {
        PyValue::Str(s) => out.push(s),
        PyValue::Bytes(b) => out.push(&String::from_utf8_lossy(b)),
        PyValue::List(xs) | PyValue::Tuple(xs) | PyValue::Set(xs) => {
            xs.iter().for_each(|x| leaves(x, out, depth + 1))
        }
        PyValue::Dict(kv) => kv.iter().for_each(|(k, v)| {
            leaves(k, out, depth + 1);
            leaves(v, out, depth + 1);
        }),
        PyValue::Call { func, args } => {
            leaves(func, out, depth + 1);
            args.iter().for_each(|x| leaves(x, out, depth + 1));
        }
        PyValue::Build { obj, state } => {
            leaves(obj, out, depth + 1);
            leaves(state, out, depth + 1);
        }
        _ => {}
    }
}
