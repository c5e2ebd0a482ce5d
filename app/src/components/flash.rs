//! Flash messages: the one-line result an action leaves in the query string of the page it
//! redirects to (`?ok=` / `?err=`, or leptos' own `?__err=` for undecodable form input).
//!
//! The query string is the attacker's to write: anyone could mail a link to
//! `/?err=Your session expired, log in at https://elsewhere.example/` and the console would show
//! it in its red error box (content spoofing). So the server signs the flash it puts into an
//! action's redirect (`security::guard` calls [`sign_location`]), and a page shows a flash only
//! when its `flash=<time>.<tag>` parameter verifies: an HMAC-SHA256 under a random per-process
//! key over the principal, the time and the message. A signed flash is good for
//! [`FLASH_TTL_SECS`] and only for the user it was made for; a restart forgets every key.

use std::sync::OnceLock;

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use sha2::{Digest, Sha256};

/// The query parameters that carry a message.
pub const MESSAGE_KEYS: [&str; 3] = ["ok", "err", "__err"];
/// The query parameter that carries the signature.
pub const SIG_KEY: &str = "flash";
/// How long a signed flash stays visible (long enough to reload the page after an action).
pub const FLASH_TTL_SECS: u64 = 300;

/// One flash to show: which kind and its (decoded) text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub key: String,
    pub text: String,
}

#[component]
pub fn Flash() -> impl IntoView {
    let search = use_location().search.get_untracked();
    let now = engine::time::now() as u64;
    let message = verified(&search, &crate::auth::current(), now);
    message.map(|Message { key, text }| match key.as_str() {
        "ok" => view! { <div class="flash ok" role="status" data-testid="flash-ok">{text}</div> }
            .into_any(),
        "__err" => {
            use leptos::server_fn::error::ServerFnUrlError;
            let e = ServerFnUrlError::<ServerFnError>::decode_err(&text);
            let text = format!("The form could not be read: {e}");
            view! { <div class="flash err" role="alert" data-testid="flash-err">{text}</div> }
                .into_any()
        }
        _ => view! { <div class="flash err" role="alert" data-testid="flash-err">{text}</div> }
            .into_any(),
    })
}

/// `return_to` if it is a local path (no open redirect), minus earlier flash / confirm
/// parameters, plus `key=value`.
pub fn with_flash(return_to: &str, key: &str, value: &str) -> String {
    let local = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.contains('\\')
        && !return_to.chars().any(|c| c.is_control());
    let base = if local { return_to } else { "/" };
    let (path, query) = base.split_once('?').unwrap_or((base, ""));
    let path = path.split('#').next().unwrap_or("/");
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !pair.is_empty() && !matches!(name, "ok" | "err" | "confirm" | "__err" | "__path")
        })
        .collect();
    let flash = format!("{key}={}", crate::format::url_part(value));
    kept.push(&flash);
    format!("{path}?{}", kept.join("&"))
}

/// The flash in raw query string `search` if there is exactly one message parameter and the
/// signature covers it, for `who`, and is at most [`FLASH_TTL_SECS`] old.
pub fn verified(search: &str, who: &str, now: u64) -> Option<Message> {
    let pairs = pairs(search);
    let mut messages = pairs
        .iter()
        .filter(|(k, _)| MESSAGE_KEYS.contains(&k.as_str()));
    let (key, text) = messages.next()?;
    if messages.next().is_some() {
        return None;
    }
    let sig = pairs.iter().find(|(k, _)| k == SIG_KEY)?.1.as_str();
    let (at, tag) = sig.split_once('.')?;
    let at: u64 = at.parse().ok()?;
    let fresh = at <= now + 5 && now.saturating_sub(at) <= FLASH_TTL_SECS;
    let expected = tag_for(who, at, key, text);
    (fresh && ct_eq(tag.as_bytes(), expected.as_bytes())).then(|| Message {
        key: key.clone(),
        text: text.clone(),
    })
}

/// Signs the flash in a redirect target (`/path?...&err=...`, relative or absolute): keeps only
/// the last message parameter (earlier ones may have come from an attacker's link through the
/// Referer) and appends `flash=<now>.<tag>`. `None` when there is no message to sign.
pub fn sign_location(location: &str, who: &str, now: u64) -> Option<String> {
    let (rest, fragment) = match location.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (location, None),
    };
    let (path, query) = rest.split_once('?')?;
    let raw: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let is_message = |p: &&str| MESSAGE_KEYS.contains(&p.split('=').next().unwrap_or(""));
    let last = raw.iter().rposition(is_message)?;
    let (key, value) = raw[last].split_once('=').unwrap_or((raw[last], ""));
    let tag = tag_for(who, now, key, &decode(value));
    let mut kept: Vec<String> = raw
        .iter()
        .enumerate()
        .filter(|(i, p)| *i == last || (!is_message(p) && p.split('=').next() != Some(SIG_KEY)))
        .map(|(_, p)| p.to_string())
        .collect();
    kept.push(format!("{SIG_KEY}={now}.{tag}"));
    let mut out = format!("{path}?{}", kept.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// `a=1&b=x%20y` → `[("a", "1"), ("b", "x y")]`, names and values percent- and `+`-decoded.
fn pairs(search: &str) -> Vec<(String, String)> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Form-urlencoded decoding (`+` is a space; invalid UTF-8 becomes U+FFFD).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Hex HMAC-SHA256 over principal, time, parameter name and message (NUL-separated: none of
/// the first three can contain a NUL that the next one could shift into).
fn tag_for(who: &str, at: u64, key: &str, text: &str) -> String {
    let mut msg = Vec::with_capacity(who.len() + key.len() + text.len() + 24);
    for part in [who.as_bytes(), at.to_string().as_bytes(), key.as_bytes()] {
        msg.extend_from_slice(part);
        msg.push(0);
    }
    msg.extend_from_slice(text.as_bytes());
    hmac_sha256(process_key(), &msg)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The random signing key, made on first use and never stored.
fn process_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(rand::random)
}

/// RFC 2104 HMAC with SHA-256, for keys of at most one block (64 bytes).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    assert!(key.len() <= 64, "hmac_sha256: key longer than one block");
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let pad = |x: u8| block.map(|b| b ^ x);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        let hex = |b: [u8; 32]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_signed_fresh_flashes_for_the_same_user_verify() {
        let at = 1_000_000;
        let loc =
            sign_location("/failed?page=2&err=evil&ok=Requeued%201%20job.", "al", at).unwrap();
        assert!(loc.starts_with("/failed?page=2&ok=Requeued%201%20job.&flash=1000000."));
        let search = loc.split_once('?').unwrap().1;
        let shown = verified(search, "al", at + 10).unwrap();
        assert_eq!(
            (shown.key.as_str(), shown.text.as_str()),
            ("ok", "Requeued 1 job.")
        );
        assert_eq!(verified(search, "bob", at), None, "bound to the user");
        assert_eq!(
            verified(search, "al", at + FLASH_TTL_SECS + 1),
            None,
            "expired"
        );
        assert_eq!(verified("err=evil", "al", at), None, "unsigned");
        let forged = search.replace("Requeued", "Deleted");
        assert_eq!(verified(&forged, "al", at), None, "text changed");
        let two = format!("{search}&err=evil");
        assert_eq!(verified(&two, "al", at), None, "a second message");
        assert_eq!(sign_location("/failed?page=2", "al", at), None);
    }

    #[test]
    fn decoding() {
        assert_eq!(decode("a+b%20c%3C%"), "a b c<%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }
}

#[cfg(test)]
mod with_flash_tests {
    use super::*;

    #[test]
    fn flash_redirects_stay_local_and_drop_old_flashes() {
        assert_eq!(
            with_flash("/failed?page=2&ok=x", "ok", "done"),
            "/failed?page=2&ok=done"
        );
        assert_eq!(
            with_flash("/failed?confirm=requeue-all", "err", "a b"),
            "/failed?err=a%20b"
        );
        assert_eq!(with_flash("https://evil.example/", "ok", "x"), "/?ok=x");
        assert_eq!(with_flash("//evil.example/", "ok", "x"), "/?ok=x");
        assert_eq!(with_flash("", "ok", "x"), "/?ok=x");
    }
}
