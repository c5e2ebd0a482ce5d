//! Console users from the config file (`[[serve.users]]`): a name and an argon2 password hash
//! in PHC form (`$argon2id$v=19$m=...`), verified with the `argon2` crate. Plaintext passwords
//! are refused there (`--user NAME:PASSWORD` stays for quick starts on the command line).
//!
//! Verifying a hash costs tens of milliseconds by design, and HTTP Basic sends the password
//! with every request, so a credential that verified once is remembered (by its exact header
//! value) for the life of the process; wrong passwords are never remembered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;

/// One `[[serve.users]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedUser {
    pub name: String,
    /// The PHC string, checked to parse at start.
    pub hash: String,
    /// `viewer`, `operator` or `admin`; absent = admin (`security::DEFAULT_ROLE`).
    pub role: Option<app::auth::Role>,
}

/// Parses the `users` array of `[serve]`.
pub fn parse_users(v: &toml::Value) -> Result<Vec<HashedUser>, String> {
    let items = v
        .as_array()
        .ok_or("expected [[serve.users]] entries (an array of tables)")?;
    let mut out: Vec<HashedUser> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let t = item
            .as_table()
            .ok_or(format!("entry {i}: expected a table"))?;
        for key in t.keys() {
            match key.as_str() {
                "name" | "password_hash" | "role" => {}
                "password" => {
                    return Err(format!(
                        "entry {i}: plaintext passwords are refused in the config file; \
                         write password_hash = \"$argon2id$...\" (e.g. from `argon2` or \
                         Python's argon2-cffi)"
                    ))
                }
                other => return Err(format!("entry {i}: unknown key {other}")),
            }
        }
        let get = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let name = get("name").filter(|n| !n.is_empty() && !n.contains(':'));
        let name = name.ok_or(format!("entry {i}: name missing, empty or containing ':'"))?;
        let hash =
            get("password_hash").ok_or(format!("entry {i} ({name}): password_hash missing"))?;
        check_hash(&hash).map_err(|e| format!("entry {i} ({name}): {e}"))?;
        let role = match get("role") {
            Some(r) => Some(r.parse().map_err(|e| format!("entry {i} ({name}): {e}"))?),
            None => None,
        };
        if out.iter().any(|u| u.name == name) {
            return Err(format!("entry {i}: user {name} listed twice"));
        }
        out.push(HashedUser { name, hash, role });
    }
    Ok(out)
}

fn check_hash(hash: &str) -> Result<(), String> {
    if !hash.starts_with("$argon2") {
        return Err(
            "password_hash must be an argon2 PHC string ($argon2id$v=19$m=...); plaintext \
             passwords are refused in the config file"
                .into(),
        );
    }
    PasswordHash::new(hash).map_err(|e| format!("password_hash does not parse: {e}"))?;
    Ok(())
}

/// Verified Basic credentials (exact header value → user name), bounded.
#[derive(Clone, Debug, Default)]
pub struct Verified(Arc<Mutex<HashMap<String, String>>>);

const MAX_REMEMBERED: usize = 1024;

impl Verified {
    /// The user whose hash `password` matches (`basic` = the header value, the cache key).
    pub fn check(
        &self,
        users: &[HashedUser],
        basic: &str,
        name: &str,
        password: &str,
    ) -> Option<String> {
        if let Some(n) = self.0.lock().ok()?.get(basic) {
            return Some(n.clone());
        }
        let user = users.iter().find(|u| u.name == name)?;
        let parsed = PasswordHash::new(&user.hash).ok()?;
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .ok()?;
        let mut map = self.0.lock().ok()?;
        if map.len() >= MAX_REMEMBERED {
            map.clear();
        }
        map.insert(basic.to_string(), user.name.clone());
        Some(user.name.clone())
    }
}

/// `taskmill hash-password`: the first line of stdin → an argon2id PHC string on stdout.
pub fn hash_stdin() -> anyhow::Result<()> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\n', '\r']);
    if pw.is_empty() {
        return Err(crate::process::UsageError("no password on stdin".into()).into());
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    println!("{hash}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    fn hash(pw: &str) -> String {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[test]
    fn hashes_verify_and_plaintext_is_refused() {
        let h = hash("s3cret");
        let users = parse_users(
            &format!("users = [{{ name = \"al\", password_hash = \"{h}\", role = \"viewer\" }}]")
                .parse::<toml::Table>()
                .unwrap()["users"],
        )
        .unwrap();
        assert_eq!(users[0].role, Some(app::auth::Role::Viewer));
        let v = Verified::default();
        assert_eq!(v.check(&users, "x", "al", "wrong"), None);
        assert_eq!(v.check(&users, "y", "al", "s3cret").as_deref(), Some("al"));
        assert_eq!(
            v.check(&users, "y", "al", "ignored").as_deref(),
            Some("al"),
            "remembered"
        );
        let plain = "users = [{ name = \"al\", password_hash = \"s3cret\" }]";
        let e = parse_users(&plain.parse::<toml::Table>().unwrap()["users"]).unwrap_err();
        assert!(e.contains("plaintext passwords are refused"), "{e}");
    }
}
