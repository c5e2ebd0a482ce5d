//! Bounded memos for the pure decodes a list page repeats on every load: the func_name in the
//! zlib head of `data`, and the last line of a traceback (`exc_string`, legacy `exc_info`).
//! Inflating those two streams per row was a fifth of a failed page's CPU.
//!
//! The key is the exact input bytes (compared in full, not just hashed), so a hit is always what
//! decoding would give: an entry can never be stale, whatever happens to the job. Two
//! generations approximate LRU: lookups hit the current map, then the previous one (and are
//! copied forward); when the current map is full it becomes the previous one. So at most
//! `2 × ENTRIES` keys of at most `MAX_KEY` bytes are held per memo; larger inputs are decoded
//! every time.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Keys per generation.
pub const ENTRIES: usize = 1024;
/// Longest input that is memoized (a typical `exc_string` is 300–1500 bytes).
pub const MAX_KEY: usize = 4096;

/// `codec::func_name_hint` of a `data` head.
pub static FUNC_NAME: LazyLock<Memo> = LazyLock::new(Memo::default);
/// Summary line of a results-stream `exc_string` (base64 of zlib).
pub static EXC_STRING_SUMMARY: LazyLock<Memo> = LazyLock::new(Memo::default);
/// Summary line of a legacy `exc_info` hash field (zlib or plain text).
pub static EXC_INFO_SUMMARY: LazyLock<Memo> = LazyLock::new(Memo::default);

type Map = HashMap<Box<[u8]>, Option<String>>;

#[derive(Default)]
pub struct Memo {
    gens: Mutex<(Map, Map)>,
}

impl Memo {
    /// `decode(key)`, memoized. `decode` must be a pure function of `key`, and one memo must
    /// always be used with the same `decode`.
    pub fn get_or(
        &self,
        key: &[u8],
        decode: impl FnOnce(&[u8]) -> Option<String>,
    ) -> Option<String> {
        if key.len() > MAX_KEY {
            return decode(key);
        }
        if let Some(hit) = self.lookup(key) {
            return hit;
        }
        // Decoded outside the lock: two threads may both decode a new key (same result).
        let value = decode(key);
        self.insert(key, value.clone());
        value
    }

    fn lookup(&self, key: &[u8]) -> Option<Option<String>> {
        let mut g = self.gens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = g.0.get(key) {
            return Some(v.clone());
        }
        let v = g.1.remove(key)?;
        Self::put(&mut g, key.into(), v.clone());
        Some(v)
    }

    fn insert(&self, key: &[u8], value: Option<String>) {
        let mut g = self.gens.lock().unwrap_or_else(|e| e.into_inner());
        Self::put(&mut g, key.into(), value);
    }

    fn put(g: &mut (Map, Map), key: Box<[u8]>, value: Option<String>) {
        if g.0.len() >= ENTRIES && !g.0.contains_key(&key) {
            g.1 = std::mem::take(&mut g.0);
        }
        g.0.insert(key, value);
    }

    /// Keys held now (both generations).
    pub fn len(&self) -> usize {
        let g = self.gens.lock().unwrap_or_else(|e| e.into_inner());
        g.0.len() + g.1.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn hits_return_the_decoded_value_without_decoding_again() {
        let m = Memo::default();
        let calls = Cell::new(0);
        let decode = |k: &[u8]| {
            calls.set(calls.get() + 1);
            Some(String::from_utf8_lossy(k).to_uppercase())
        };
        assert_eq!(m.get_or(b"abc", decode).as_deref(), Some("ABC"));
        assert_eq!(m.get_or(b"abc", decode).as_deref(), Some("ABC"));
        assert_eq!(m.get_or(b"abd", decode).as_deref(), Some("ABD"));
        assert_eq!(calls.get(), 2);
        // `None` results are memoized too.
        assert_eq!(m.get_or(b"zz", |_| None), None);
        assert_eq!(m.get_or(b"zz", |_| Some("no".into())), None);
    }

    #[test]
    fn bounded_by_two_generations_and_key_size() {
        let m = Memo::default();
        for i in 0..(5 * ENTRIES) {
            m.get_or(i.to_string().as_bytes(), |k| Some(k.len().to_string()));
        }
        assert!(m.len() <= 2 * ENTRIES, "{} keys held", m.len());
        assert!(m.len() > ENTRIES);
        // The newest keys are still there; the oldest are gone.
        let key = (5 * ENTRIES - 1).to_string();
        assert_eq!(m.get_or(key.as_bytes(), |_| None), Some("4".into()));
        assert_eq!(
            m.get_or(b"0", |_| Some("again".into())),
            Some("again".into())
        );

        let big = vec![b'x'; MAX_KEY + 1];
        let before = m.len();
        assert_eq!(m.get_or(&big, |_| Some("big".into())), Some("big".into()));
        assert_eq!(
            m.get_or(&big, |_| Some("fresh".into())),
            Some("fresh".into())
        );
        assert_eq!(m.len(), before, "oversized keys are never stored");
    }

    #[test]
    fn previous_generation_hits_are_kept() {
        let m = Memo::default();
        m.get_or(b"keep", |_| Some("kept".into()));
        for i in 0..ENTRIES {
            m.get_or(i.to_string().as_bytes(), |_| None);
        }
        // "keep" is now in the previous generation; a hit moves it forward.
        assert_eq!(m.get_or(b"keep", |_| None), Some("kept".into()));
        for i in ENTRIES..2 * ENTRIES - 1 {
            m.get_or(i.to_string().as_bytes(), |_| None);
        }
        assert_eq!(m.get_or(b"keep", |_| None), Some("kept".into()));
    }
}
