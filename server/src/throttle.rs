//! Slows, then refuses, password guessing: failed logins are counted per client IP and per user
//! name. Each failure is answered a little later than the one before (up to 2 s); past the
//! limit (5 per user, 20 per client) every attempt, right or wrong, gets 429 with Retry-After
//! for a lockout that starts at 1 minute and doubles with each further failure (up to 15).
//! Failures are forgotten 15 minutes after the last one, and a success clears the user's and
//! the client's count. State is in memory, per console process.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const USER_LIMIT: u32 = 5;
pub const CLIENT_LIMIT: u32 = 20;
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
const FIRST_LOCKOUT: Duration = Duration::from_secs(60);
const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
const STEP_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(2);
/// Entries kept before expired ones are dropped (a flood of made-up user names).
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone, Debug, Default)]
pub struct Throttle(Arc<Mutex<HashMap<Key, Fails>>>);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Client(IpAddr),
    User(String),
}

impl Key {
    fn limit(&self) -> u32 {
        match self {
            Key::Client(_) => CLIENT_LIMIT,
            Key::User(_) => USER_LIMIT,
        }
    }
}

/// A lockout in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locked {
    pub retry_after: Duration,
    /// The first refusal of this lockout: the one written to the audit log, so a client
    /// hammering a locked account can't push the real history out of the capped audit list.
    pub first: bool,
}

#[derive(Clone, Copy, Debug)]
struct Fails {
    count: u32,
    last: Instant,
    /// A refusal during the current lockout was already reported (audited once per lockout).
    reported: bool,
}

impl Fails {
    fn lockout(&self, limit: u32) -> Option<Duration> {
        let over = self.count.checked_sub(limit)?;
        Some(
            FIRST_LOCKOUT
                .saturating_mul(1u32 << over.min(10))
                .min(MAX_LOCKOUT),
        )
    }
}

impl Throttle {
    /// `Err(Locked)` when any of `keys` is locked out now.
    pub fn check(&self, keys: &[Key]) -> Result<(), Locked> {
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut locked: Option<Locked> = None;
        for k in keys {
            let limit = k.limit();
            let Some(f) = map.get_mut(k) else { continue };
            let Some(lockout) = f.lockout(limit) else {
                continue;
            };
            let Some(wait) = (f.last + lockout).checked_duration_since(now) else {
                continue;
            };
            if wait.is_zero() {
                continue;
            }
            let first = !f.reported;
            f.reported = true;
            let l = locked.get_or_insert(Locked {
                retry_after: wait,
                first: false,
            });
            l.retry_after = l.retry_after.max(wait);
            l.first |= first;
        }
        locked.map_or(Ok(()), Err)
    }

    /// Records a failure for each key; returns how long to hold the answer back.
    pub fn failed(&self, keys: &[Key]) -> Duration {
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        let mut most = 0;
        for k in keys {
            let f = map.entry(k.clone()).or_insert(Fails {
                count: 0,
                last: now,
                reported: false,
            });
            if now.duration_since(f.last) >= FORGET_AFTER {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
            f.reported = false;
            most = most.max(f.count);
        }
        STEP_DELAY
            .saturating_mul(most.saturating_sub(1))
            .min(MAX_DELAY)
    }

    pub fn succeeded(&self, keys: &[Key]) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            map.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_doubles() {
        let t = Throttle::default();
        let user = [Key::User("al".into())];
        for i in 0..USER_LIMIT {
            assert!(t.check(&user).is_ok(), "attempt {i}");
            let delay = t.failed(&user);
            assert_eq!(delay, STEP_DELAY.saturating_mul(i).min(MAX_DELAY));
        }
        let first = t.check(&user).unwrap_err();
        assert!(first.first, "the first refusal is reported");
        let wait = first.retry_after;
        assert!(
            wait > Duration::from_secs(58) && wait <= FIRST_LOCKOUT,
            "{wait:?}"
        );
        assert!(
            !t.check(&user).unwrap_err().first,
            "reported once per lockout"
        );
        t.failed(&user);
        let second = t.check(&user).unwrap_err();
        assert!(second.first && second.retry_after > Duration::from_secs(118));
        let other = [Key::User("bo".into())];
        assert!(t.check(&other).is_ok(), "per user");
        t.succeeded(&user);
        assert!(t.check(&user).is_ok());
    }
}
