//! RQ's default job `description`: the Python call string, built from `repr()` of the
//! JSON-decoded arguments exactly as a Python producer would print them.

use serde_json::Value;

use crate::value::PyValue;

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

/// Python's `repr()` of the value `json.loads` would produce (through `PyValue`, so the
/// console and the producer print values the same way). Bounded: only the first
/// `MAX_ARG_REPR` characters survive `truncate` anyway, and a char is at most 4 bytes.
pub fn repr(v: &Value) -> String {
    PyValue::from_json(v).repr_limited(MAX_ARG_REPR * 4 + 4)
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
