//! Rendering and JSON conversion of `PyValue`.

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

#[test]
fn non_finite_floats_survive_serde() {
    let v = PyValue::List(vec![
        PyValue::Float(f64::INFINITY),
        PyValue::Float(-1.5),
        PyValue::Float(f64::NAN),
    ]);
    let text = serde_json::to_string(&v).unwrap();
    assert_eq!(
        text,
        r#"{"t":"list","v":[{"t":"float","v":"inf"},{"t":"float","v":-1.5},{"t":"float","v":"nan"}]}"#
    );
    let back: PyValue = serde_json::from_str(&text).unwrap();
    assert_eq!(back.repr(), "[inf, -1.5, nan]");
}
