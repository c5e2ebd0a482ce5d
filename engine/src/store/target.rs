//! `Target`: where a [`Store`](super::Store) connects, parsed once at start from what the user
//! typed: a Redis URL (`redis://`, `rediss://`, `unix://`, `redis+unix://`), a Sentinel URL
//! (`redis+sentinel://host:port[,host:port]/master[/db]`), or Sentinel addresses given one by
//! one, plus the TLS files. Every mistake is an `Error::Invalid` naming the problem, so the
//! binary can exit 2 before anything touches Redis.

use std::path::PathBuf;

use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo};

use crate::error::{Error, Result};

/// TLS material for `rediss://` (all PEM files). Trust roots: `ca`, else the file named by
/// `SSL_CERT_FILE`, else the system store. `#insecure` in the URL (typed by the user, never a
/// default) skips verification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    pub fn is_empty(&self) -> bool {
        self.ca.is_none() && self.cert.is_none() && self.key.is_none()
    }
}

/// Redis behind Sentinel: the Sentinels to ask and the master's name; `redis` carries the data
/// nodes' db, username and password.
#[derive(Clone, Debug)]
pub struct SentinelSpec {
    pub sentinels: Vec<(String, u16)>,
    pub master: String,
    pub redis: RedisConnectionInfo,
}

#[derive(Clone, Debug)]
pub enum Endpoint {
    /// One server: TCP, TLS or a Unix socket.
    Direct(ConnectionInfo),
    Sentinel(SentinelSpec),
}

#[derive(Clone, Debug)]
pub struct Target {
    pub endpoint: Endpoint,
    pub tls: TlsFiles,
    /// The URL as typed, password replaced by `***` (for logs and error messages).
    shown: String,
}

impl Target {
    /// Parses any supported URL form.
    pub fn parse(url: &str) -> Result<Target> {
        let shown = redact(url);
        let bad = |why: String| Error::Invalid(format!("bad Redis URL {shown}: {why}"));
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
        let endpoint =
            match scheme {
                "redis+sentinel" | "redis-sentinel" => {
                    Endpoint::Sentinel(parse_sentinel(url).map_err(bad)?)
                }
                "rediss+sentinel" => return Err(bad(
                    "TLS to Sentinel-managed servers is not supported yet; use redis+sentinel:// \
                     on a trusted network"
                        .into(),
                )),
                "redis" | "rediss" | "unix" | "redis+unix" => {
                    let info = url.into_connection_info().map_err(|e| bad(e.to_string()))?;
                    if let ConnectionAddr::Tcp(host, _) | ConnectionAddr::TcpTls { host, .. } =
                        info.addr()
                    {
                        if host.is_empty() {
                            return Err(bad("no host".into()));
                        }
                    }
                    Endpoint::Direct(info)
                }
                "" => return Err(bad("expected a URL such as redis://HOST:PORT".into())),
                other => {
                    return Err(bad(format!(
                    "unknown scheme {other:?} (redis, rediss, unix, redis+unix, redis+sentinel)"
                )))
                }
            };
        Ok(Target {
            endpoint,
            tls: TlsFiles::default(),
            shown,
        })
    }

    /// `--sentinel HOST:PORT` (repeatable) with `--sentinel-master NAME`.
    pub fn sentinel(addrs: &[String], master: &str) -> Result<Target> {
        let url = format!("redis+sentinel://{}/{}", addrs.join(","), master);
        Target::parse(&url)
    }

    /// Adds TLS files; refused on a target that does not use TLS (they would be ignored).
    pub fn with_tls(mut self, tls: TlsFiles) -> Result<Target> {
        if tls.is_empty() {
            return Ok(self);
        }
        if !self.is_tls() {
            return Err(Error::Invalid(format!(
                "--redis-ca / --redis-cert / --redis-key need a rediss:// URL, not {}",
                self.shown
            )));
        }
        if tls.cert.is_some() != tls.key.is_some() {
            return Err(Error::Invalid(
                "--redis-cert and --redis-key go together (a client certificate and its key)"
                    .into(),
            ));
        }
        self.tls = tls;
        Ok(self)
    }

    pub fn is_tls(&self) -> bool {
        matches!(&self.endpoint, Endpoint::Direct(i) if matches!(i.addr(), ConnectionAddr::TcpTls { .. }))
    }

    /// The URL with its password hidden.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// `redis+sentinel://[user:pass@]host:port[,host:port...]/master[/db]`.
fn parse_sentinel(url: &str) -> std::result::Result<SentinelSpec, String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let mut sentinels = Vec::new();
    for hp in hosts.split(',').filter(|s| !s.is_empty()) {
        sentinels.push(parse_host_port(hp, 26379)?);
    }
    if sentinels.is_empty() {
        return Err("no Sentinel address (redis+sentinel://HOST:PORT/MASTER)".into());
    }
    let mut parts = path.split('/').filter(|s| !s.is_empty());
    let master = parts
        .next()
        .ok_or("no master name (redis+sentinel://HOST:PORT/MASTER[/DB])")?;
    let mut redis = RedisConnectionInfo::default();
    if let Some(db) = parts.next() {
        let db: i64 = db.parse().map_err(|_| format!("bad db number {db:?}"))?;
        redis = redis.set_db(db);
    }
    if parts.next().is_some() {
        return Err("unexpected path after the db number".into());
    }
    if let Some(u) = userinfo {
        let (user, pass) = u.split_once(':').unwrap_or((u, ""));
        if !user.is_empty() {
            redis = redis.set_username(percent_decode(user)?);
        }
        if !pass.is_empty() {
            redis = redis.set_password(percent_decode(pass)?);
        }
    }
    Ok(SentinelSpec {
        sentinels,
        master: percent_decode(master)?,
        redis,
    })
}

fn parse_host_port(s: &str, default_port: u16) -> std::result::Result<(String, u16), String> {
    // `[v6]` or a name alone takes the default port; otherwise the text after the last `:`.
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !s.ends_with(']') => {
            let port = p.parse::<u16>().map_err(|_| format!("bad port in {s:?}"))?;
            (h, port)
        }
        _ => (s, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("no host in {s:?}"));
    }
    Ok((host.to_string(), port))
}

fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("bad %-escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad %-escape")?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "%-escape is not UTF-8".into())
}

/// `scheme://user:secret@host` → `scheme://user:***@host` (the only secret a URL carries).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let t = Target::parse("redis://u:p%40ss@h:7000/3").unwrap();
        assert_eq!(t.shown(), "redis://u:***@h:7000/3");
        let Endpoint::Direct(i) = &t.endpoint else {
            panic!()
        };
        assert_eq!(i.redis_settings().password(), Some("p@ss"));
        assert_eq!(i.redis_settings().db(), 3);
        assert!(Target::parse("rediss://h:6380").unwrap().is_tls());
        assert!(Target::parse("unix:///tmp/r.sock").is_ok());
        assert!(Target::parse("redis+unix:///tmp/r.sock?db=2").is_ok());
        let s = Target::parse("redis+sentinel://:pw@a:26379,b/mymaster/4").unwrap();
        let Endpoint::Sentinel(s) = s.endpoint else {
            panic!()
        };
        assert_eq!(
            s.sentinels,
            vec![("a".to_string(), 26379u16), ("b".to_string(), 26379u16)]
        );
        assert_eq!(s.master, "mymaster");
        assert_eq!(s.redis.db(), 4);
        assert_eq!(s.redis.password(), Some("pw"));
    }

    #[test]
    fn bad_urls_name_the_problem() {
        for (url, why) in [
            ("localhost:6379", "expected a URL"),
            ("http://h", "unknown scheme"),
            ("redis+sentinel://h:1", "no master name"),
            ("redis+sentinel:///m", "no Sentinel address"),
            ("redis+sentinel://h:x/m", "bad port"),
            ("rediss+sentinel://h/m", "not supported"),
        ] {
            let e = Target::parse(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
        let e = Target::parse("redis://h")
            .unwrap()
            .with_tls(TlsFiles {
                ca: Some("ca.pem".into()),
                ..TlsFiles::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("need a rediss:// URL"), "{e}");
    }
}
