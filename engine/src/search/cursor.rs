//! The opaque continuation cursor of a search: where the scan stopped (which list of which
//! queue, or the keyspace SCAN cursor; how far into that window), how many jobs it examined so
//! far, and a checksum over all of it plus the query text. It is URL-safe base64 of a short
//! JSON object; anything that does not decode, does not check out, or belongs to another query
//! is refused as invalid input (a 400), never trusted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Longest cursor accepted, in bytes (a real one is well under 200).
pub const MAX_CURSOR_LEN: usize = 1024;

/// A scan position. `queue` + `list` name a segment of the list plan (`scan::Plan`): resuming
/// starts at the first planned segment at or after it, so a queue created or removed between
/// pages does not derail the scan. For a keyspace scan `queue` is empty, `pos` is the SCAN
/// cursor and `skip` how many keys of that SCAN batch were already examined.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "q", default)]
    pub queue: String,
    #[serde(rename = "l", default)]
    pub list: u8,
    #[serde(rename = "p")]
    pub pos: u64,
    #[serde(rename = "s", default)]
    pub skip: u32,
    /// Jobs examined by the pages before this one.
    #[serde(rename = "n")]
    pub scanned: u64,
    #[serde(rename = "c", default)]
    check: String,
}

impl Cursor {
    /// The cursor text for continuing `query` from here.
    pub fn encode(&self, query: &str) -> String {
        let mut c = self.clone();
        c.check = c.checksum(query);
        B64.encode(serde_json::to_vec(&c).unwrap_or_default())
    }

    /// Parses a cursor given back with `query`; refuses anything it did not make for it.
    pub fn decode(text: &str, query: &str) -> Result<Cursor> {
        let bad = || {
            Error::Invalid(
                "invalid search cursor: use the \"more\" link of the same search (a cursor only \
                 continues the query it came from)"
                    .into(),
            )
        };
        if text.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let bytes = B64.decode(text.as_bytes()).map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if c.check != c.checksum(query) || usize::from(c.list) >= super::scan::LISTS.len() {
            return Err(bad());
        }
        if !c.queue.is_empty() && crate::limits::validate_queue_name(&c.queue).is_err() {
            return Err(bad());
        }
        Ok(c)
    }

    /// FNV-1a over the fields and the query: catches edits and cursors of another query. Not a
    /// secret (a forged cursor can only point the scan somewhere else, within the same limits).
    fn checksum(&self, query: &str) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let text = format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{query}",
            self.queue, self.list, self.pos, self.skip, self.scanned
        );
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_tampering() {
        let c = Cursor {
            queue: "billing".into(),
            list: 3,
            pos: 500,
            skip: 0,
            scanned: 1234,
            check: String::new(),
        };
        let text = c.encode("needle");
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let back = Cursor::decode(&text, "needle").unwrap();
        assert_eq!(
            (back.queue.as_str(), back.pos, back.scanned),
            ("billing", 500, 1234)
        );
        // Another query, a flipped character, junk, a huge cursor: all refused.
        assert!(Cursor::decode(&text, "other").is_err());
        let mut flipped = text.clone().into_bytes();
        flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
        assert!(Cursor::decode(&String::from_utf8(flipped).unwrap(), "needle").is_err());
        for junk in ["", "!!!", "e30", &"A".repeat(MAX_CURSOR_LEN + 1)] {
            assert!(Cursor::decode(junk, "needle").is_err(), "{junk}");
        }
    }
}
