//! zlib for short payloads without the cost of a deflate state. Setting up (or resetting)
//! miniz_oxide's compressor clears ~128 KB of hash tables, which is most of the time spent
//! compressing a typical 40-byte call tuple and the largest single cost of a batched enqueue.
//! A short payload has almost nothing for LZ77 to find, so one final block with the fixed
//! Huffman code, literals only (RFC 1951 §3.2.6), is as small as it gets within a few bytes.
//! The stream is ordinary zlib (header `78 9c`, Adler-32 trailer) that Python's
//! `zlib.decompress` and every inflater read.

/// Payloads up to this size use [`deflate_literals`]; larger ones the real deflate.
pub const SMALL: usize = 512;

pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() <= SMALL {
        deflate_literals(bytes)
    } else {
        crate::codec::zlib::deflate(bytes)
    }
}

/// LSB-first bit writer, as deflate packs bits.
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn put(&mut self, bits: u32, len: u32) {
        self.acc |= bits << self.n;
        self.n += len;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// Huffman codes are defined MSB-first, so they go in bit-reversed.
    fn code(&mut self, code: u32, len: u32) {
        self.put(code.reverse_bits() >> (32 - len), len);
    }
}

pub fn deflate_literals(bytes: &[u8]) -> Vec<u8> {
    let mut w = Bits {
        out: Vec::with_capacity(bytes.len() * 9 / 8 + 12),
        acc: 0,
        n: 0,
    };
    w.out.extend_from_slice(&[0x78, 0x9c]);
    w.put(1, 1); // BFINAL
    w.put(1, 2); // BTYPE = 01, fixed Huffman
    for &b in bytes {
        if b < 144 {
            w.code(0x30 + u32::from(b), 8);
        } else {
            w.code(0x190 + u32::from(b) - 144, 9);
        }
    }
    w.code(0, 7); // end of block (256)
    if w.n > 0 {
        w.out.push(w.acc as u8);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    w.out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::zlib::inflate_bounded;

    #[test]
    fn inflates_back_for_every_byte_value() {
        let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for input in [&b""[..], b"[\"m.f\", null, [1, 2], {}]", &all, &[0xff; 512]] {
            let z = deflate_literals(input);
            assert_eq!(&z[..2], &[0x78, 0x9c]);
            assert_eq!(inflate_bounded(&z, 4096).unwrap(), input);
        }
        // The empty input is byte-identical to zlib's own.
        assert_eq!(
            deflate_literals(b""),
            [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]
        );
        let big = vec![b'x'; SMALL + 1];
        assert!(
            deflate(&big).len() < 100,
            "large payloads get real compression"
        );
    }
}
