//! zlib as RQ uses it: `zlib.compress(data)` (default level, `78 9c` header) on write, and a
//! *bounded* inflate on read, because a small hostile `data` field can expand to gigabytes.

use std::cell::Cell;
use std::io::Write as _;

use flate2::{Decompress, FlushDecompress, Status};

/// Size of the per-thread scratch buffer inflate output passes through.
const SCRATCH: usize = 32 * 1024;

/// One inflater and scratch buffer per thread, reset before each use: a fresh inflate state (tens
/// of KiB, zeroed) plus a zeroed 32 KiB buffer cost more than inflating a list row's payload
/// (profiled at 20–25 % of a list page's CPU).
struct Inflater {
    d: Decompress,
    scratch: Box<[u8]>,
}

impl Inflater {
    fn new() -> Box<Self> {
        Box::new(Inflater {
            d: Decompress::new(true),
            scratch: vec![0u8; SCRATCH].into_boxed_slice(),
        })
    }
}

thread_local! {
    static INFLATER: Cell<Option<Box<Inflater>>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's inflater, reset. It is taken out of the slot for the call, so a
/// nested call (or one during thread teardown) simply gets a fresh one.
fn with_inflater<R>(f: impl FnOnce(&mut Decompress, &mut [u8]) -> R) -> R {
    let mut inf = INFLATER
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(Inflater::new);
    inf.d.reset(true);
    let r = f(&mut inf.d, &mut inf.scratch);
    let _ = INFLATER.try_with(|slot| slot.set(Some(inf)));
    r
}

/// Inflates a zlib stream, failing once the output would exceed `max_out` bytes.
pub fn inflate_bounded(bytes: &[u8], max_out: usize) -> Result<Vec<u8>, String> {
    with_inflater(|d, buf| {
        let mut out = Vec::new();
        loop {
            let (in_before, out_before) = (d.total_in(), d.total_out());
            let rest = bytes.get(in_before as usize..).unwrap_or_default();
            let status = d
                .decompress(rest, buf, FlushDecompress::None)
                .map_err(|e| format!("bad zlib stream: {e}"))?;
            let produced = (d.total_out() - out_before) as usize;
            if out.len() + produced > max_out {
                return Err(format!("inflated size exceeds {max_out} bytes"));
            }
            out.extend_from_slice(&buf[..produced]);
            match status {
                Status::StreamEnd => return Ok(out),
                _ if produced == 0 && d.total_in() == in_before => {
                    return Err("truncated zlib stream".into())
                }
                _ => {}
            }
        }
    })
}

/// The first `max_out` bytes a zlib stream inflates to, for peeking at a payload's head; a cut or
/// corrupt stream yields what was decoded so far. Non-zlib input yields its own head.
pub fn inflate_prefix(bytes: &[u8], max_out: usize) -> Vec<u8> {
    if !looks_zlib(bytes) {
        return bytes[..bytes.len().min(max_out)].to_vec();
    }
    let (out, failed) = with_inflater(|d, scratch| {
        let mut out = Vec::new();
        let mut failed = false;
        while out.len() < max_out {
            let (in_before, out_before) = (d.total_in(), d.total_out());
            let rest = bytes.get(in_before as usize..).unwrap_or_default();
            let room = (max_out - out.len()).min(scratch.len());
            let status = d.decompress(rest, &mut scratch[..room], FlushDecompress::None);
            let produced = (d.total_out() - out_before) as usize;
            out.extend_from_slice(&scratch[..produced]);
            match status {
                Ok(Status::StreamEnd) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
                Ok(_) if produced == 0 && d.total_in() == in_before => break,
                Ok(_) => {}
            }
        }
        (out, failed)
    });
    // Like RQ's reader: bytes that only looked like zlib are taken raw.
    if failed && out.is_empty() {
        return bytes[..bytes.len().min(max_out)].to_vec();
    }
    out
}

/// A zlib header: deflate method 8 and `(CMF*256 + FLG) % 31 == 0`. JSON text and a pickle's
/// `0x80` never match, so those are taken raw without trying.
pub fn looks_zlib(bytes: &[u8]) -> bool {
    bytes.len() >= 2
        && bytes[0] & 0x0f == 8
        && (u16::from(bytes[0]) * 256 + u16::from(bytes[1])) % 31 == 0
}

/// Compresses like Python's `zlib.compress(data)` (level 6, zlib header `78 9c`).
pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 16),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// RQ's read rule for `data` / `exc_info`: try to inflate, and use the raw bytes when that fails.
/// `Err` only when the stream is valid but inflates past `max_out`.
pub fn inflate_or_raw(bytes: &[u8], max_out: usize) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    if !looks_zlib(bytes) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    match inflate_bounded(bytes, max_out) {
        Ok(v) => Ok(std::borrow::Cow::Owned(v)),
        Err(e) if e.starts_with("inflated size") => Err(e),
        Err(_) => Ok(std::borrow::Cow::Borrowed(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_header() {
        let text = b"Traceback (most recent call last):\n  ValueError: boom\n".repeat(20);
        let z = deflate(&text);
        assert_eq!(&z[..2], &[0x78, 0x9c]);
        assert_eq!(inflate_bounded(&z, 1 << 20).unwrap(), text);
        assert_eq!(inflate_bounded(&z, text.len()).unwrap(), text);
        assert!(inflate_bounded(&z, text.len() - 1)
            .unwrap_err()
            .contains("exceeds"));
    }

    #[test]
    fn python_empty_string() {
        // zlib.compress(b"") from the RQ schema notes.
        assert_eq!(
            deflate(b""),
            [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]
        );
        assert_eq!(
            inflate_bounded(&[0x78, 0x9c, 0x03, 0, 0, 0, 0, 1], 10).unwrap(),
            b""
        );
    }

    #[test]
    fn bomb_and_garbage_are_refused() {
        let z = deflate(&vec![0u8; 50 << 20]);
        assert!(z.len() < 100_000);
        assert!(inflate_bounded(&z, 1 << 20).is_err());
        assert!(inflate_or_raw(&z, 1 << 20).is_err());
        assert!(inflate_bounded(&z[..z.len() / 2], 100 << 20).is_err());
        assert!(inflate_bounded(b"\x78\x9cgarbage", 100).is_err());
        assert_eq!(
            &*inflate_or_raw(b"\x78\x9cgarbage", 100).unwrap(),
            b"\x78\x9cgarbage"
        );
        assert_eq!(&*inflate_or_raw(b"[1]", 100).unwrap(), b"[1]");
    }

    #[test]
    fn reused_inflater_is_reset_between_calls() {
        let text = b"Traceback (most recent call last):\n  ValueError: boom\n".repeat(2000);
        let z = deflate(&text);
        // A failure mid-stream (bound, cut, garbage) must not leak into the next call.
        assert!(inflate_bounded(&z, 100).is_err());
        assert_eq!(inflate_bounded(&z, 1 << 20).unwrap(), text);
        assert!(inflate_bounded(&z[..z.len() / 2], 1 << 20).is_err());
        assert_eq!(inflate_prefix(&z, 7), b"Traceba");
        assert_eq!(inflate_prefix(&z[..z.len() / 2], 40_000), &text[..40_000]);
        assert!(inflate_bounded(b"\x78\x9cgarbage", 100).is_err());
        assert_eq!(inflate_prefix(b"\x78\x9cgarbage", 4), b"\x78\x9cga");
        assert_eq!(inflate_prefix(&z, 1 << 20), text);
        assert_eq!(inflate_prefix(b"[1, 2]", 3), b"[1,");
        assert_eq!(inflate_bounded(&deflate(b""), 0).unwrap(), b"");
    }
}
