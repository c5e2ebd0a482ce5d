//! Property tests for the payload codecs: hostile input (random bytes, opcode soup, truncated and
//! mutated streams, deep nesting, huge declared lengths) never panics and stays bounded;
//! JSON written like Python's `json.dumps` reads back to the same value. Each property prints
//! how many cases it ran.

use engine::codec::{self, json, pickle, zlib};
use engine::model::Decoded;
use engine::value::{PyValue, PRETTY_LIMIT, REPR_LIMIT};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

/// Runs `cases` cases of `strategy` through `check`, prints and returns the count.
fn run<S: Strategy>(name: &str, cases: u32, strategy: S, check: impl Fn(S::Value)) -> u32 {
    let count = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |v| {
            count.set(count.get() + 1);
            check(v);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    println!("property {name}: {} cases", count.get());
    assert!(count.get() >= cases, "{name} ran too few cases");
    count.get()
}

/// Renders whatever decoded, checking the output bounds every caller relies on.
fn render_is_bounded(v: &PyValue) {
    assert!(v.repr().len() <= REPR_LIMIT + 4);
    assert!(v.pretty().len() <= PRETTY_LIMIT + 4);
    let _ = v.to_json();
}

fn check_decoded(d: &Decoded) {
    match d {
        Decoded::Ok { value, .. } => render_is_bounded(value),
        Decoded::Undecodable { raw, .. } => assert!(raw.len() <= codec::PREVIEW_BYTES + 8),
    }
}

/// Every pickle opcode byte, so random streams get past the first instruction.
const OPCODES: &[u8] = b"(.0125FGIJKLMNPQRSTUVX]abcdeghijlopqrstu}\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98)BC\n";

fn opcode_soup() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![3 => prop::sample::select(OPCODES), 1 => any::<u8>(), 1 => Just(0u8)];
    (any::<bool>(), prop::collection::vec(byte, 0..400)).prop_map(|(proto, mut v)| {
        if proto {
            v.splice(0..0, [0x80, 0x05]);
        }
        v
    })
}

/// Valid pickles (CPython 3.11, protocols 0, 2, 5) of nested containers, strings and objects.
const VALID: &[&str] = &[
    "285672715f666978747572655f7461736b732e6563686f0a70300a4e2856780a70310a286c70320a49310a6149320a61286470330a56610a70340a4e7361636461746574696d650a6461746574696d650a70350a28635f636f646563730a656e636f64650a70360a285607ea01020304055c75303030305c75303030305c75303030300a70370a566c6174696e310a70380a7470390a527031300a747031310a527031320a747031330a28647031340a566e0a7031350a49310a7356666c61670a7031360a4930310a73747031370a2e",
    "800228581500000072715f666978747572655f7461736b732e6563686f71004e58010000007871015d7102284b014b027d710358010000006171044e7365636461746574696d650a6461746574696d650a7105635f636f646563730a656e636f64650a7106580b00000007c3aa0102030405000000710758060000006c6174696e31710886710952710a85710b52710c87710d7d710e2858010000006e710f4b015804000000666c6167711088757471112e",
    "8005956e00000000000000288c1572715f666978747572655f7461736b732e6563686f944e8c0178945d94284b014b027d948c0161944e73658c086461746574696d65948c086461746574696d65949394430a07ea0102030405000000948594529487947d94288c016e944b018c04666c616794887574942e",
    "286470300a56610a70310a49310a7356620a70320a286c70330a49320a6156780a70340a614e6173566e6f770a70350a636461746574696d650a646174650a70360a28635f636f646563730a656e636f64650a70370a285607ea01020a70380a566c6174696e310a70390a747031300a527031310a747031320a527031330a7356730a7031340a635f5f6275696c74696e5f5f0a7365740a7031350a28286c7031360a49310a6149320a61747031370a527031380a7356660a7031390a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7032300a28286c7032310a49330a61747032320a527032330a73566269670a7032340a4c313236373635303630303232383232393430313439363730333230353337364c0a73566f640a7032350a63636f6c6c656374696f6e730a4f726465726564446963740a7032360a2874527032370a566b0a7032380a49310a73732e",
    "80027d71002858010000006171014b0158010000006271025d7103284b0258010000007871044e6558030000006e6f777105636461746574696d650a646174650a7106635f636f646563730a656e636f64650a7107580500000007c3aa0102710858060000006c6174696e31710986710a52710b85710c52710d580100000073710e635f5f6275696c74696e5f5f0a7365740a710f5d7110284b014b02658571115271125801000000667113635f5f6275696c74696e5f5f0a66726f7a656e7365740a71145d71154b0361857116527117580300000062696771188a0d0000000000000000000000001058020000006f64711963636f6c6c656374696f6e730a4f726465726564446963740a711a2952711b58010000006b711c4b0173752e",
    "80059596000000000000007d94288c0161944b018c0162945d94284b028c0178944e658c036e6f77948c086461746574696d65948c0464617465949394430407ea010294859452948c0173948f94284b014b02908c016694284b0391948c03626967948a0d000000000000000000000000108c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b0173752e",
    "63636f70795f7265670a5f7265636f6e7374727563746f720a70300a28635f5f6d61696e5f5f0a500a70310a635f5f6275696c74696e5f5f0a6f626a6563740a70320a4e7470330a5270340a286470350a56610a70360a286c70370a49310a6156780a70380a614e617356620a70390a28647031300a566b0a7031310a2846312e350a635f636f646563730a656e636f64650a7031320a285662790a7031330a566c6174696e310a7031340a747031350a527031360a747031370a7373622e",
    "8002635f5f6d61696e5f5f0a500a7100298171017d71022858010000006171035d7104284b0158010000007871054e6558010000006271067d710758010000006b7108473ff8000000000000635f636f646563730a656e636f64650a710958020000006279710a58060000006c6174696e31710b86710c52710d86710e7375622e",
    "80059544000000000000008c085f5f6d61696e5f5f948c01509493942981947d94288c0161945d94284b018c0178944e658c0162947d948c016b94473ff8000000000000430262799486947375622e",
];

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The call tuple of `add(3, 4)`, protocol 5, as RQ stores it before zlib.
const ADD: &[u8] = b"\x80\x05\x95\x24\x00\x00\x00\x00\x00\x00\x00\x28\x8c\x14rq_fixture_tasks.add\x94\x4e\x4b\x03\x4b\x04\x86\x94\x7d\x94\x74\x94\x2e";

#[test]
fn pickle_never_panics_on_hostile_streams() {
    let mut total = 0;
    total += run(
        "pickle/random-bytes",
        2000,
        prop::collection::vec(any::<u8>(), 0..256),
        |b| {
            if let Ok((v, _)) = pickle::loads(&b) {
                render_is_bounded(&v);
            }
        },
    );
    total += run("pickle/opcode-soup", 5000, opcode_soup(), |b| {
        if let Ok((v, _)) = pickle::loads(&b) {
            render_is_bounded(&v);
        }
    });
    let mut seeds: Vec<Vec<u8>> = VALID.iter().map(|h| hex(h)).collect();
    seeds.push(ADD.to_vec());
    for s in &seeds {
        let (v, _) = pickle::loads(s).unwrap_or_else(|e| panic!("seed {s:?}: {e}"));
        render_is_bounded(&v);
    }
    total += run(
        "pickle/mutated-valid",
        3000,
        (
            prop::sample::select(seeds.clone()),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ),
        |(mut b, flips)| {
            for (i, x) in flips {
                let i = i.index(b.len());
                b[i] = x;
            }
            if let Ok((v, _)) = pickle::loads(&b) {
                render_is_bounded(&v);
            }
            let _ = codec::decode_data(&b);
        },
    );
    // Every truncation of every seed, deterministically.
    let mut truncations = 0;
    for s in &seeds {
        for n in 0..s.len() {
            let r = pickle::loads(&s[..n]);
            assert!(r.is_err(), "a cut pickle has no STOP: {:?}", &s[..n]);
            truncations += 1;
        }
    }
    println!("pickle/truncations: {truncations} cases");
    println!("pickle total: {} cases", total + truncations);
}

#[test]
fn pickle_limits_hold_on_maximal_inputs() {
    let n = pickle::MAX_INPUT;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("16 MiB of MARK", vec![b'('; n]),
        ("16 MiB of EMPTY_LIST", vec![b']'; n]),
        ("16 MiB of NONE", vec![b'N'; n]),
        (
            "16 MiB of DUP",
            [b"N".as_slice(), &vec![b'2'; n - 1]].concat(),
        ),
        ("too large", vec![b'N'; n + 1]),
        (
            "huge BINUNICODE8",
            b"\x8d\xff\xff\xff\xff\xff\xff\xff\x7f".to_vec(),
        ),
        ("huge LONG4", b"\x8b\xff\xff\xff\x7f".to_vec()),
        (
            "huge FRAME",
            b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\xffN.".to_vec(),
        ),
        ("negative BINSTRING", b"T\xff\xff\xff\xff".to_vec()),
        ("memo get miss", b"j\xff\xff\xff\xff.".to_vec()),
    ];
    for (name, b) in &cases {
        match pickle::loads(b) {
            Ok((v, lossy)) => {
                assert!(name.contains("FRAME"), "{name} decoded");
                assert!(!lossy);
                assert_eq!(v, PyValue::None);
            }
            Err(e) => assert!(!e.is_empty(), "{name}"),
        }
    }
    // A wide but legal LONG4 is shown opaquely, a modest one exactly.
    let mut wide = b"\x8b\x00\x10\x00\x00".to_vec();
    wide.extend(vec![0x11; 4096]);
    wide.push(b'.');
    assert!(matches!(
        pickle::loads(&wide),
        Ok((PyValue::Opaque(_), true))
    ));
    let mut big = b"\x8a\x10".to_vec();
    big.extend([0u8; 15]);
    big.push(0x01);
    big.push(b'.');
    assert_eq!(
        pickle::loads(&big).unwrap().0,
        PyValue::BigInt("1329227995784915872903807060280344576".into())
    );
    println!("pickle/limits: {} cases", cases.len() + 2);
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".*".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".*", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn json_round_trips_through_python_dialect() {
    let mut total = run("json/dumps-loads", 3000, json_value(), |v| {
        let text = json::dumps_python(&v);
        assert!(text.is_ascii(), "ensure_ascii output: {text}");
        let (back, lossy) = json::loads(text.as_bytes()).unwrap();
        assert!(!lossy);
        assert_eq!(back, PyValue::from_json(&v), "{text}");
        assert_eq!(back.to_json(), v);
        // The same text through the full `data` / value paths, raw and zlib'd.
        let call = Value::Array(vec![
            Value::from("m.f"),
            Value::Null,
            Value::Array(vec![v.clone()]),
            serde_json::json!({}),
        ]);
        let data = zlib::deflate(json::dumps_python(&call).as_bytes());
        let c = codec::decode_data(&data).unwrap();
        assert_eq!(c.args, vec![PyValue::from_json(&v)]);
        check_decoded(&codec::decode_value(text.as_bytes()));
    });
    total += run(
        "json/random-text",
        3000,
        r#"[\[\]{}",:0-9eE.+\-a-z\\ ]{0,64}"#,
        |s| {
            if let Ok((v, _)) = json::loads(s.as_bytes()) {
                render_is_bounded(&v);
            }
        },
    );
    total += run(
        "json/random-bytes",
        1000,
        prop::collection::vec(any::<u8>(), 0..128),
        |b| {
            let _ = json::loads(&b);
            check_decoded(&codec::decode_value(&b));
        },
    );
    println!("json total: {total} cases");
}

#[test]
fn json_deep_and_huge_inputs_are_bounded() {
    let deep = format!("{}0{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let (v, lossy) = json::loads(deep.as_bytes()).unwrap();
    assert!(lossy);
    render_is_bounded(&v);
    let unclosed = "[{\"a\":".repeat(500_000);
    assert!(json::loads(unclosed.as_bytes()).is_err());
    let wide = format!("[{}0]", "0,".repeat(2_000_000));
    assert!(json::loads(wide.as_bytes())
        .unwrap_err()
        .contains("too many"));
    let long_int = "9".repeat(5000);
    assert!(json::loads(long_int.as_bytes()).is_err());
    println!("json/limits: 4 cases");
}

#[test]
fn zlib_is_bounded_and_total() {
    let mut total = run(
        "zlib/round-trip",
        500,
        prop::collection::vec(any::<u8>(), 0..4096),
        |b| {
            let z = zlib::deflate(&b);
            assert_eq!(&z[..2], &[0x78, 0x9c]);
            assert_eq!(zlib::inflate_bounded(&z, b.len()).unwrap(), b);
            if !b.is_empty() {
                assert!(zlib::inflate_bounded(&z, b.len() - 1).is_err());
            }
            for cut in [1, z.len() / 2, z.len() - 1] {
                let r = zlib::inflate_bounded(&z[..cut], 1 << 20);
                assert!(r.is_err(), "a cut stream is an error");
                if cut >= 2 {
                    let head = zlib::inflate_prefix(&z[..cut], 1 << 20);
                    assert!(
                        b.starts_with(&head),
                        "the prefix of a cut stream is a prefix"
                    );
                }
            }
        },
    );
    total += run(
        "zlib/random-bytes",
        2000,
        prop::collection::vec(any::<u8>(), 0..512),
        |mut b| {
            let _ = zlib::inflate_bounded(&b, 1 << 16);
            if b.len() >= 2 {
                b[0] = 0x78;
                b[1] = 0x9c;
            }
            let _ = zlib::inflate_bounded(&b, 1 << 16);
            let _ = zlib::inflate_or_raw(&b, 1 << 16);
            let _ = codec::func_name_hint(&b);
            if let Err(Decoded::Undecodable { raw, .. }) = codec::decode_data(&b) {
                assert!(raw.len() <= codec::PREVIEW_BYTES + 8);
            }
        },
    );
    // A 1 GiB bomb is refused after inflating at most the budget.
    let bomb = zlib::deflate(&vec![b'N'; 64 << 20]);
    match codec::decode_data(&bomb) {
        Err(Decoded::Undecodable { reason, .. }) => assert!(reason.contains("exceeds"), "{reason}"),
        other => panic!("{other:?}"),
    }
    println!("zlib total: {} cases", total + 1);
}
