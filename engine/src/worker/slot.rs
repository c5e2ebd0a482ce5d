//! Identity of a pool and its slots, and their birth/death writes.
//!
//! Each slot is an ordinary RQ worker (`rq:worker:<pool id>.<i>`) so `rq info` and dashboards
//! list it; the pool record (`taskmill:pool:<id>`) ties the slots of one process together.
//! Birth and death are one MULTI each, like RQ's own (schema 8.1).

use redis::aio::ConnectionLike;
use redis::RedisResult;

use crate::{keys, time};

/// `version` field of every slot's worker hash.
pub const VERSION: &str = concat!("taskmill-", env!("CARGO_PKG_VERSION"));
pub const PYTHON_VERSION: &str = "n/a (Taskmill, Rust)";
/// Worker hashes are kept 60 s after a clean death, like RQ.
const DEATH_TTL: i64 = 60;

#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub pool_id: String,
    pub hostname: String,
    pub pid: u32,
    pub ip_address: String,
    pub queues: Vec<String>,
}

impl Identity {
    pub fn new(queues: Vec<String>) -> Identity {
        let hostname = hostname();
        let pid = std::process::id();
        let pool_id = format!("{hostname}.{pid}.{:08x}", rand::random::<u32>());
        Identity {
            pool_id,
            hostname,
            pid,
            ip_address: "unknown".into(),
            queues,
        }
    }

    pub fn slot_name(&self, index: usize) -> String {
        format!("{}.{index}", self.pool_id)
    }
}

/// A busy slot's job, so a re-birth after an expired hash still shows it.
pub(crate) struct BirthJob<'a> {
    pub job_id: &'a str,
}

/// Writes the full worker hash of each slot, registers it, and refreshes the pool record.
pub(crate) async fn birth<C: ConnectionLike>(
    conn: &mut C,
    ident: &Identity,
    slots: &[(String, Option<BirthJob<'_>>)],
    concurrency: usize,
    ttl: i64,
) -> RedisResult<()> {
    let now = time::format_rq(time::now());
    let queues = ident.queues.join(",");
    let mut p = redis::pipe();
    p.atomic();
    for (name, job) in slots {
        let key = keys::worker(name);
        p.del(&key).ignore();
        let state = if job.is_some() { "busy" } else { "idle" };
        p.hset_multiple(
            &key,
            &[
                ("birth", now.as_str()),
                ("last_heartbeat", now.as_str()),
                ("queues", queues.as_str()),
                ("pid", &ident.pid.to_string()),
                ("hostname", ident.hostname.as_str()),
                ("ip_address", ident.ip_address.as_str()),
                ("version", VERSION),
                ("python_version", PYTHON_VERSION),
                ("state", state),
                ("taskmill_pool", ident.pool_id.as_str()),
            ],
        )
        .ignore();
        if let Some(j) = job {
            p.hset(&key, "current_job", j.job_id).ignore();
        }
        p.sadd(keys::WORKERS, &key).ignore();
        for q in &ident.queues {
            p.sadd(keys::workers_of_queue(q), &key).ignore();
        }
        p.expire(&key, ttl).ignore();
    }
    pool_record(&mut p, ident, concurrency, ttl, &now);
    p.query_async::<()>(conn).await
}

fn pool_record(p: &mut redis::Pipeline, ident: &Identity, concurrency: usize, ttl: i64, now: &str) {
    let key = keys::pool(&ident.pool_id);
    p.hset_multiple(
        &key,
        &[
            ("concurrency", concurrency.to_string().as_str()),
            ("queues", ident.queues.join(",").as_str()),
            ("hostname", ident.hostname.as_str()),
            ("pid", ident.pid.to_string().as_str()),
            ("last_heartbeat", now),
        ],
    )
    .ignore();
    p.hset_nx(&key, "birth", now).ignore();
    p.expire(&key, ttl).ignore();
    p.sadd(keys::POOLS, &ident.pool_id).ignore();
}

/// Clean death of some slots (RQ: SREM both sets, HSET death, EXPIRE 60); with `whole_pool`
/// the pool record goes too. `concurrency` is the slot count left (for the pool record).
pub(crate) async fn death<C: ConnectionLike>(
    conn: &mut C,
    ident: &Identity,
    slots: &[String],
    remaining: usize,
    whole_pool: bool,
    ttl: i64,
) -> RedisResult<()> {
    let now = time::format_rq(time::now());
    let mut p = redis::pipe();
    p.atomic();
    for name in slots {
        let key = keys::worker(name);
        p.srem(keys::WORKERS, &key).ignore();
        for q in &ident.queues {
            p.srem(keys::workers_of_queue(q), &key).ignore();
        }
        p.hset(&key, "death", &now).ignore();
        p.expire(&key, DEATH_TTL).ignore();
    }
    if whole_pool {
        p.del(keys::pool(&ident.pool_id)).ignore();
        p.srem(keys::POOLS, &ident.pool_id).ignore();
    } else {
        pool_record(&mut p, ident, remaining, ttl, &now);
    }
    p.query_async::<()>(conn).await
}

/// Sets `state` on several idle slots' worker hashes (suspended / idle toggles).
pub(crate) async fn set_state<C: ConnectionLike>(
    conn: &mut C,
    slots: &[String],
    state: &str,
) -> RedisResult<()> {
    if slots.is_empty() {
        return Ok(());
    }
    let mut p = redis::pipe();
    for name in slots {
        p.hset(keys::worker(name), "state", state).ignore();
    }
    p.query_async::<()>(conn).await
}

/// RQ's `shutdown_requested_date` on the worker hashes of slots still running a job.
pub(crate) async fn shutdown_requested<C: ConnectionLike>(
    conn: &mut C,
    slots: &[String],
) -> RedisResult<()> {
    let now = time::format_rq(time::now());
    let mut p = redis::pipe();
    for name in slots {
        p.hset(keys::worker(name), "shutdown_requested_date", &now)
            .ignore();
    }
    p.query_async::<()>(conn).await
}

/// `addr` of our own connection as Redis sees it (RQ's `ip_address`), or `unknown`.
pub(crate) async fn own_address<C: ConnectionLike>(conn: &mut C) -> String {
    let info: RedisResult<String> = redis::cmd("CLIENT").arg("INFO").query_async(conn).await;
    info.ok()
        .and_then(|s| {
            s.split_whitespace()
                .find_map(|kv| kv.strip_prefix("addr=").map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".into())
}

pub(crate) fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or we
    // stop at the buffer end.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    // Dots separate pool id parts for readers; keep the host part readable but unambiguous.
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_contract() {
        let id = Identity::new(vec!["a".into()]);
        let parts: Vec<&str> = id.pool_id.rsplitn(3, '.').collect();
        assert_eq!(parts[0].len(), 8);
        assert!(parts[0].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(parts[1], std::process::id().to_string());
        assert_eq!(id.slot_name(3), format!("{}.3", id.pool_id));
        assert!(VERSION.starts_with("taskmill-"));
    }
}
