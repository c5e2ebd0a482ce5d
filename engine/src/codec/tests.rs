//! Codec unit tests. Pickle vectors were produced by CPython 3.11 `pickle.dumps(obj, protocol=p)`
//! for p = 0..5; every protocol of one object must decode to the same tree.

use super::*;
use crate::value::PyValue;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const VECTORS: &[(&str, u8, &str)] = &[
    ("call", 0, "285672715f666978747572655f7461736b732e6164640a70300a4e2849330a49340a7470310a286470320a7470330a2e"),
    ("call", 1, "28581400000072715f666978747572655f7461736b732e61646471004e284b034b047471017d71027471032e"),
    ("call", 2, "800228581400000072715f666978747572655f7461736b732e61646471004e4b034b048671017d71027471032e"),
    ("call", 3, "800328581400000072715f666978747572655f7461736b732e61646471004e4b034b048671017d71027471032e"),
    ("call", 4, "8004952400000000000000288c1472715f666978747572655f7461736b732e616464944e4b034b0486947d9474942e"),
    ("call", 5, "8005952400000000000000288c1472715f666978747572655f7461736b732e616464944e4b034b0486947d9474942e"),
    ("scalars", 0, "286c70300a4e614930310a614930300a6149300a61492d310a61493235350a614936353533350a6149323134373438333634370a61492d323134373438333634380a614c393232333337323033363835343737353830374c0a614c31383434363734343037333730393535313631364c0a614c2d313236373635303630303232383232393430313439363730333230353337364c0a6146312e350a61462d302e300a6146696e660a6156e95c5530303031663638300a70310a61635f636f646563730a656e636f64650a70320a28565c7530303030ff61620a70330a566c6174696e310a70340a7470350a5270360a61635f5f6275696c74696e5f5f0a6279746561727261790a70370a2867320a285678790a70380a67340a7470390a527031300a747031310a527031320a612e"),
    ("scalars", 1, "5d7100284e4930310a4930300a4b004affffffff4bff4dffff4affffff7f4a000000804c393232333337323033363835343737353830374c0a4c31383434363734343037333730393535313631364c0a4c2d313236373635303630303232383232393430313439363730333230353337364c0a473ff8000000000000478000000000000000477ff00000000000005806000000c3a9f09f9a807101635f636f646563730a656e636f64650a710228580500000000c3bf6162710358060000006c6174696e317104747105527106635f5f6275696c74696e5f5f0a6279746561727261790a710728680228580200000078797108680474710952710a74710b52710c652e"),
    ("scalars", 2, "80025d7100284e88894b004affffffff4bff4dffff4affffff7f4a000000808a08ffffffffffffff7f8a090000000000000000018a0d000000000000000000000000f0473ff8000000000000478000000000000000477ff00000000000005806000000c3a9f09f9a807101635f636f646563730a656e636f64650a7102580500000000c3bf6162710358060000006c6174696e317104867105527106635f5f6275696c74696e5f5f0a6279746561727261790a71076802580200000078797108680486710952710a85710b52710c652e"),
    ("scalars", 3, "80035d7100284e88894b004affffffff4bff4dffff4affffff7f4a000000808a08ffffffffffffff7f8a090000000000000000018a0d000000000000000000000000f0473ff8000000000000478000000000000000477ff00000000000005806000000c3a9f09f9a807101430400ff61627102636275696c74696e730a6279746561727261790a7103430278797104857105527106652e"),
    ("scalars", 4, "8004958f000000000000005d94284e88894b004affffffff4bff4dffff4affffff7f4a000000808a08ffffffffffffff7f8a090000000000000000018a0d000000000000000000000000f0473ff8000000000000478000000000000000477ff00000000000008c06c3a9f09f9a8094430400ff6162948c086275696c74696e73948c09627974656172726179949394430278799485945294652e"),
    ("scalars", 5, "80059579000000000000005d94284e88894b004affffffff4bff4dffff4affffff7f4a000000808a08ffffffffffffff7f8a090000000000000000018a0d000000000000000000000000f0473ff8000000000000478000000000000000477ff00000000000008c06c3a9f09f9a8094430400ff616294960200000000000000787994652e"),
    ("containers", 0, "286470300a56610a70310a2849310a7470320a7356620a70330a286c70340a49310a61286c70350a49320a61617356630a70360a635f5f6275696c74696e5f5f0a7365740a70370a28286c70380a49310a6149320a617470390a527031300a7356640a7031310a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7031320a28286c7031330a49330a61747031340a527031350a732849310a49320a747031360a28647031370a732e"),
    ("containers", 1, "7d7100285801000000617101284b0174710258010000006271035d7104284b015d71054b0261655801000000637106635f5f6275696c74696e5f5f0a7365740a7107285d7108284b014b026574710952710a580100000064710b635f5f6275696c74696e5f5f0a66726f7a656e7365740a710c285d710d4b036174710e52710f284b014b027471107d7111752e"),
    ("containers", 2, "80027d71002858010000006171014b0185710258010000006271035d7104284b015d71054b0261655801000000637106635f5f6275696c74696e5f5f0a7365740a71075d7108284b014b026585710952710a580100000064710b635f5f6275696c74696e5f5f0a66726f7a656e7365740a710c5d710d4b036185710e52710f4b014b028671107d7111752e"),
    ("containers", 3, "80037d71002858010000006171014b0185710258010000006271035d7104284b015d71054b0261655801000000637106636275696c74696e730a7365740a71075d7108284b014b026585710952710a580100000064710b636275696c74696e730a66726f7a656e7365740a710c5d710d4b036185710e52710f4b014b028671107d7111752e"),
    ("containers", 4, "80049539000000000000007d94288c0161944b0185948c0162945d94284b015d944b0261658c0163948f94284b014b02908c016494284b0391944b014b0286947d94752e"),
    ("containers", 5, "80059539000000000000007d94288c0161944b0185948c0162945d94284b015d944b0261658c0163948f94284b014b02908c016494284b0391944b014b0286947d94752e"),
    ("global", 0, "636461746574696d650a6461746574696d650a70300a2e"),
    ("global", 1, "636461746574696d650a6461746574696d650a71002e"),
    ("global", 2, "8002636461746574696d650a6461746574696d650a71002e"),
    ("global", 3, "8003636461746574696d650a6461746574696d650a71002e"),
    ("global", 4, "80049519000000000000008c086461746574696d65948c086461746574696d659493942e"),
    ("global", 5, "80059519000000000000008c086461746574696d65948c086461746574696d659493942e"),
    ("datetime", 0, "636461746574696d650a6461746574696d650a70300a28635f636f646563730a656e636f64650a70310a285607ea0b150b0f030e15780a70320a566c6174696e310a70330a7470340a5270350a7470360a5270370a2e"),
    ("datetime", 1, "636461746574696d650a6461746574696d650a710028635f636f646563730a656e636f64650a710128580b00000007c3aa0b150b0f030e1578710258060000006c6174696e3171037471045271057471065271072e"),
    ("datetime", 2, "8002636461746574696d650a6461746574696d650a7100635f636f646563730a656e636f64650a7101580b00000007c3aa0b150b0f030e1578710258060000006c6174696e3171038671045271058571065271072e"),
    ("datetime", 3, "8003636461746574696d650a6461746574696d650a7100430a07ea0b150b0f030e157871018571025271032e"),
    ("datetime", 4, "8004952a000000000000008c086461746574696d65948c086461746574696d65949394430a07ea0b150b0f030e157894859452942e"),
    ("datetime", 5, "8005952a000000000000008c086461746574696d65948c086461746574696d65949394430a07ea0b150b0f030e157894859452942e"),
    ("ordered", 0, "63636f6c6c656374696f6e730a4f726465726564446963740a70300a28745270310a566b0a70320a49310a732e"),
    ("ordered", 1, "63636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000006b71024b01732e"),
    ("ordered", 2, "800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000006b71024b01732e"),
    ("ordered", 3, "800363636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000006b71024b01732e"),
    ("ordered", 4, "80049529000000000000008c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01732e"),
    ("ordered", 5, "80059529000000000000008c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01732e"),
    ("obj", 0, "63636f70795f7265670a5f7265636f6e7374727563746f720a70300a28635f5f6d61696e5f5f0a500a70310a635f5f6275696c74696e5f5f0a6f626a6563740a70320a4e7470330a5270340a286470350a56780a70360a49310a7356790a70370a56610a70380a73622e"),
    ("obj", 1, "63636f70795f7265670a5f7265636f6e7374727563746f720a710028635f5f6d61696e5f5f0a500a7101635f5f6275696c74696e5f5f0a6f626a6563740a71024e7471035271047d71052858010000007871064b015801000000797107580100000061710875622e"),
    ("obj", 2, "8002635f5f6d61696e5f5f0a500a7100298171017d71022858010000007871034b015801000000797104580100000061710575622e"),
    ("obj", 3, "8003635f5f6d61696e5f5f0a500a7100298171017d71022858010000007871034b015801000000797104580100000061710575622e"),
    ("obj", 4, "80049528000000000000008c085f5f6d61696e5f5f948c01509493942981947d94288c0178944b018c0179948c01619475622e"),
    ("obj", 5, "80059528000000000000008c085f5f6d61696e5f5f948c01509493942981947d94288c0178944b018c0179948c01619475622e"),
    ("recursive", 0, "286c70300a67300a612e"),
    ("recursive", 1, "5d71006800612e"),
    ("recursive", 2, "80025d71006800612e"),
    ("recursive", 3, "80035d71006800612e"),
    ("recursive", 4, "80049506000000000000005d946800612e"),
    ("recursive", 5, "80059506000000000000005d946800612e"),
    ("shared", 0, "286c70300a286c70310a49310a6149320a616167310a612e"),
    ("shared", 1, "5d7100285d7101284b014b02656801652e"),
    ("shared", 2, "80025d7100285d7101284b014b02656801652e"),
    ("shared", 3, "80035d7100285d7101284b014b02656801652e"),
    ("shared", 4, "8004950f000000000000005d94285d94284b014b02656801652e"),
    ("shared", 5, "8005950f000000000000005d94285d94284b014b02656801652e"),
];

fn expected(name: &str) -> &'static str {
    match name {
        "call" => "('rq_fixture_tasks.add', None, (3, 4), {})",
        "scalars" => "[None, True, False, 0, -1, 255, 65535, 2147483647, -2147483648, 9223372036854775807, \
                      18446744073709551616, -1267650600228229401496703205376, 1.5, -0.0, inf, 'é🚀', \
                      b'\\x00\\xffab', builtins.bytearray(b'xy')]",
        "containers" => "{'a': (1,), 'b': [1, [2]], 'c': {1, 2}, 'd': builtins.frozenset({3}), (1, 2): {}}",
        "global" => "datetime.datetime",
        "datetime" => "datetime.datetime(b'\\x07\\xea\\x0b\\x15\\x0b\\x0f\\x03\\x0e\\x15x')",
        "ordered" => "collections.OrderedDict({'k': 1})",
        "obj" => "__main__.P(x=1, y='a')",
        "recursive" => "[<...>]",
        "shared" => "[[1, 2], [1, 2]]",
        other => panic!("no expectation for {other}"),
    }
}

#[test]
fn pickle_vectors_decode_alike_across_protocols() {
    for (name, proto, h) in VECTORS {
        let (v, _lossy) = pickle::loads(&hex(h)).unwrap_or_else(|e| panic!("{name} p{proto}: {e}"));
        assert_eq!(v.repr(), expected(name), "{name} protocol {proto}");
    }
}

#[test]
fn decode_data_splits_the_call() {
    let h = VECTORS
        .iter()
        .find(|(n, p, _)| *n == "call" && *p == 5)
        .unwrap()
        .2;
    let zipped = zlib::deflate(&hex(h));
    for raw in [hex(h), zipped] {
        let call = decode_data(&raw).unwrap();
        assert_eq!(call.codec, Codec::Pickle);
        assert_eq!(call.func_name, "rq_fixture_tasks.add");
        assert_eq!(call.instance, PyValue::None);
        assert_eq!(call.args, vec![PyValue::Int(3), PyValue::Int(4)]);
        assert!(call.kwargs.is_empty());
    }
    // The hand-assembled protocol 2 pickle from the RQ round-trip notes.
    let p2 = b"\x80\x02(X\x0c\x00\x00\x00rt_tasks.addN(K\x07K\x05t}t.";
    assert_eq!(
        decode_data(p2).unwrap().args,
        vec![PyValue::Int(7), PyValue::Int(5)]
    );
    let json = br#"["rq_fixture_tasks.echo", null, ["h\u00e9llo \ud83d\ude80"], {"n": 1, "flag": true, "none": null}]"#;
    let call = decode_data(&zlib::deflate(json)).unwrap();
    assert_eq!(call.codec, Codec::Json);
    assert_eq!(call.args, vec![PyValue::Str("héllo 🚀".into())]);
    let keys: Vec<_> = call.kwargs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["n", "flag", "none"]);
}

#[test]
fn garbage_is_undecodable_with_preview() {
    for raw in [
        &b""[..],
        b"\x80\x05garbage",
        b"\x78\x9cnot zlib",
        b"[1, 2]",
        b"\xff\xfe\x00\n",
    ] {
        match decode_data(raw) {
            Err(Decoded::Undecodable {
                reason,
                raw: preview,
                len,
            }) => {
                assert!(!reason.is_empty());
                assert_eq!(len, raw.len());
                assert!(preview.len() <= PREVIEW_BYTES + 8);
            }
            other => panic!("{raw:?} decoded to {other:?}"),
        }
    }
    assert_eq!(preview(b"a\n\xff\xe9t\x00", 100), "a\\n\\xff\\xe9t\\x00");
    assert!(preview(&[b'x'; 5000], 2048).ends_with('…'));
}

#[test]
fn decode_value_handles_results_and_meta() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    // return_value entries from the fixture dump.
    let cases = [
        ("gAVLBS4=", Codec::Pickle, "5"),
        ("NQ==", Codec::Json, "5"),
        (
            "gAWVJQAAAAAAAAB9lCiMBGFyZ3OUXZSMAXiUYYwGa3dhcmdzlH2UjAFulEsBc3Uu",
            Codec::Pickle,
            "{'args': ['x'], 'kwargs': {'n': 1}}",
        ),
        (
            "eyJhcmdzIjogWyJhIiwgMV0sICJrd2FyZ3MiOiB7IngiOiB7ImsiOiBbMSwgMl19fX0=",
            Codec::Json,
            "{'args': ['a', 1], 'kwargs': {'x': {'k': [1, 2]}}}",
        ),
    ];
    for (b, codec, want) in cases {
        match decode_value(&b64.decode(b).unwrap()) {
            Decoded::Ok {
                codec: c,
                value,
                lossy,
            } => {
                assert_eq!((c, value.repr().as_str(), lossy), (codec, want, false));
            }
            other => panic!("{b}: {other:?}"),
        }
    }
}

#[test]
fn pickle_limits() {
    // Billion laughs: each level doubles via GET; the output budget cuts it off.
    let mut p = vec![0x80, 0x04, b']', 0x94];
    for i in 0..60u32 {
        p.extend_from_slice(b"(j");
        p.extend_from_slice(&i.to_le_bytes());
        p.push(b'j');
        p.extend_from_slice(&i.to_le_bytes());
        p.extend_from_slice(&[b'l', 0x94]);
    }
    p.push(b'.');
    let (v, lossy) = pickle::loads(&p).unwrap();
    assert!(lossy);
    assert!(v.repr().len() <= crate::value::REPR_LIMIT + 4);
    // Deep nesting: 100k EMPTY_LIST + APPEND pairs.
    let mut p = vec![0x80, 0x04, b']'];
    p.extend(std::iter::repeat_n(b']', 100_000));
    p.extend(std::iter::repeat_n(b'a', 100_000));
    p.push(b'.');
    let (_, lossy) = pickle::loads(&p).unwrap();
    assert!(lossy);
    // Huge declared lengths fail fast.
    for p in [
        &b"\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xff"[..],
        b"X\xff\xff\xff\xff",
        b"\x8b\xff\xff\xff\x7f",
    ] {
        assert!(pickle::loads(p).is_err());
    }
    assert!(pickle::loads(b"\x80\x06N.").is_err());
    assert!(pickle::loads(b"N").is_err());
    assert!(pickle::loads(b"h\x05.").is_err());
}

#[test]
fn func_name_from_payload_head() {
    for (name, proto, h) in VECTORS {
        if *name == "call" {
            let raw = hex(h);
            assert_eq!(
                func_name_hint(&raw).as_deref(),
                Some("rq_fixture_tasks.add"),
                "protocol {proto}"
            );
            // A large payload cut to the list-page prefix still names its function.
            let mut big = raw.clone();
            big.extend((0..20_000u32).flat_map(|i| i.to_le_bytes()));
            let z = zlib::deflate(&big);
            assert_eq!(
                func_name_hint(&z[..512]).as_deref(),
                Some("rq_fixture_tasks.add"),
                "p{proto}"
            );
        }
    }
    let json = zlib::deflate(br#"["m.f\u00e9", null, [], {}]"#);
    assert_eq!(func_name_hint(&json).as_deref(), Some("m.f\u{e9}"));
    assert_eq!(func_name_hint(b"garbage"), None);
    assert_eq!(func_name_hint(b"\x80\x05\x95"), None);
}
