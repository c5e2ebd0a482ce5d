//! Decoding the literal arguments of pickle opcodes: integers of any width and the text forms
//! of protocol 0.

use crate::value::PyValue;

fn e<T>(msg: impl Into<String>) -> Result<T, String> {
    Err(msg.into())
}

/// Python's `int(text)` for decimal text, bounded like CPython (4300 digits).
pub(super) fn parse_decimal(text: &str) -> Result<PyValue, String> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(PyValue::Int(i));
    }
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 4300 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return e(format!(
            "bad integer literal {:?}",
            crate::value::truncate_chars(text, 40)
        ));
    }
    let digits = digits.trim_start_matches('0');
    Ok(PyValue::BigInt(format!(
        "{}{}",
        if neg { "-" } else { "" },
        digits
    )))
}

/// LONG1/LONG4 payload: little-endian two's complement of any width.
pub(super) fn decode_long(b: &[u8]) -> PyValue {
    if b.is_empty() {
        return PyValue::Int(0);
    }
    let neg = b[b.len() - 1] & 0x80 != 0;
    if b.len() <= 8 {
        let mut a = [if neg { 0xff } else { 0 }; 8];
        a[..b.len()].copy_from_slice(b);
        return PyValue::Int(i64::from_le_bytes(a));
    }
    let mut mag: Vec<u8> = b.to_vec();
    if neg {
        // Two's complement negation: invert and add one.
        let mut carry = true;
        for x in mag.iter_mut() {
            let (v, c) = (!*x).overflowing_add(carry as u8);
            *x = v;
            carry = c;
        }
    }
    // Repeated division by 1e9 over base-2^32 limbs (most significant first).
    let mut limbs: Vec<u32> = mag
        .chunks(4)
        .rev()
        .map(|c| {
            let mut a = [0u8; 4];
            a[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(a)
        })
        .collect();
    let mut parts: Vec<u32> = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem: u64 = 0;
        for l in limbs.iter_mut() {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        parts.push(rem as u32);
        while limbs.first() == Some(&0) {
            limbs.remove(0);
        }
    }
    let mut s = String::from(if neg { "-" } else { "" });
    match parts.split_last() {
        None => s.push('0'),
        Some((hi, rest)) => {
            s.push_str(&hi.to_string());
            for p in rest.iter().rev() {
                s.push_str(&format!("{p:09}"));
            }
        }
    }
    match s.parse::<i64>() {
        Ok(i) => PyValue::Int(i),
        Err(_) => PyValue::BigInt(s),
    }
}

/// Protocol 0 `STRING` argument: a Python 2 repr-quoted byte string.
pub(super) fn unquote_py2(b: &[u8]) -> Result<Vec<u8>, String> {
    if b.len() < 2 || (b[0] != b'\'' && b[0] != b'"') || b[b.len() - 1] != b[0] {
        return e("STRING argument is not quoted");
    }
    let inner = &b[1..b.len() - 1];
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        i += 1;
        if c != b'\\' || i >= inner.len() {
            out.push(c);
            continue;
        }
        let x = inner[i];
        i += 1;
        match x {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\n' => {}
            b'x' => {
                let h = inner
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let v = h
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("bad \\x escape")?;
                out.push(v);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(x - b'0');
                for _ in 0..2 {
                    match inner.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'\\' | b'\'' | b'"' => out.push(x),
            other => out.extend_from_slice(&[b'\\', other]),
        }
    }
    Ok(out)
}

/// Protocol 0 `UNICODE` argument: latin-1 text where `\uXXXX` / `\UXXXXXXXX` are escapes.
pub(super) fn raw_unicode_escape(b: &[u8]) -> (String, bool) {
    let mut out = String::with_capacity(b.len());
    let mut lossy = false;
    let mut i = 0;
    let hex = |s: &[u8]| {
        std::str::from_utf8(s)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() && (b[i + 1] == b'u' || b[i + 1] == b'U') {
            let n = if b[i + 1] == b'u' { 4 } else { 8 };
            if let Some(mut cp) = b.get(i + 2..i + 2 + n).and_then(hex) {
                i += 2 + n;
                // Surrogate pairs written as two \u escapes.
                if (0xd800..0xdc00).contains(&cp) && b.get(i..i + 2) == Some(b"\\u") {
                    if let Some(lo) = b
                        .get(i + 2..i + 6)
                        .and_then(hex)
                        .filter(|lo| (0xdc00..0xe000).contains(lo))
                    {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        i += 6;
                    }
                }
                out.push(char::from_u32(cp).unwrap_or_else(|| {
                    lossy = true;
                    '\u{fffd}'
                }));
                continue;
            }
        }
        // Everything else is latin-1, byte for byte.
        out.push(b[i] as char);
        i += 1;
    }
    (out, lossy)
}
