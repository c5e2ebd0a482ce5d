//! Claiming jobs: one `claim.lua` call takes up to one job per free slot (no prefetch), starting
//! with the ids the blocking wait (`wait.rs`) moved into intermediate lists, if any.

use redis::{RedisResult, Value};

use super::pool::Shared;
use super::wait::Popped;
use crate::reply::{int, text};
use crate::scripts::CLAIM;
use crate::{keys, time};

pub(crate) struct Claimed {
    /// Position in the slot list passed to `claim`.
    pub slot: usize,
    pub id: String,
    pub exec_id: String,
    pub queue: usize,
    pub data: Vec<u8>,
    pub timeout: Option<i64>,
    /// The job's `result_ttl` text ('' = default) and whether it lists dependencies, as read
    /// at claim; `finish.lua` uses them as RQ's worker uses the Job object it loaded.
    pub hints: FinishHints,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct FinishHints {
    pub result_ttl: String,
    pub has_dependencies: bool,
    /// The chord (RQ `Group`) the job belongs to, '' = none: finish.lua records its end in the
    /// chord without reading the hash again.
    pub group_id: String,
}

pub(crate) enum Claim {
    Suspended,
    Jobs { jobs: Vec<Claimed>, at: f64 },
}

/// 32 hex chars, like RQ's `uuid4().hex` execution ids.
pub(crate) fn new_exec_id() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// Claims for `slots`, giving slot i the execution id `exec_ids[i]` (the caller keeps them so a
/// call whose reply was lost can be recovered with [`recover`]). `pre` = ids a blocking wait
/// moved into their intermediate lists: each is started in queue order or put back at its
/// queue head.
pub(crate) async fn claim(
    shared: &Shared,
    slots: &[(usize, String)],
    exec_ids: &[String],
    pre: &[Popped],
) -> RedisResult<Claim> {
    let now = time::now();
    let queues = &shared.cfg.queues;
    let mut inv = CLAIM.prepare_invoke();
    inv.key(keys::SUSPENDED);
    for p in pre {
        inv.key(keys::intermediate_first_seen(&queues[p.queue], &p.id));
    }
    inv.arg(now.to_string())
        .arg(time::format_rq(now))
        .arg(shared.lease_secs)
        .arg(queues.len())
        .arg(slots.len())
        .arg(pre.len());
    for p in pre {
        inv.arg(&p.id).arg(p.queue + 1);
    }
    for q in queues {
        inv.arg(q);
    }
    for ((_, name), x) in slots.iter().zip(exec_ids) {
        inv.arg(name).arg(x);
    }
    let mut conn = shared.conn.clone();
    let reply: Value = inv.invoke_async(&mut conn).await?;
    Ok(parse(reply, now))
}

/// Parses `{'suspended'}` or `{'ok', slot, id, x, qi, data, timeout, ...}` (claim.lua, and the
/// second part of finish.lua's reply, whose `slot` is the 1-based batch entry instead).
pub(crate) fn parse(reply: Value, at: f64) -> Claim {
    let Value::Array(items) = reply else {
        return Claim::Jobs {
            jobs: Vec::new(),
            at,
        };
    };
    if items.first().and_then(text).as_deref() == Some("suspended") {
        return Claim::Suspended;
    }
    let mut jobs = Vec::new();
    let mut rest = items.into_iter().skip(1);
    // Moved out of the reply, not copied: `data` can be large.
    loop {
        let chunk: Vec<Value> = rest.by_ref().take(9).collect();
        let Ok([slot, id, x, qi, data, timeout, rttl, deps, group]) = <[Value; 9]>::try_from(chunk)
        else {
            break;
        };
        let (Some(slot), Some(id), Some(x), Some(qi)) = (int(&slot), text(&id), text(&x), int(&qi))
        else {
            continue;
        };
        let data = match data {
            Value::BulkString(b) => b,
            _ => Vec::new(),
        };
        jobs.push(Claimed {
            slot: (slot as usize).saturating_sub(1),
            id,
            exec_id: x,
            queue: (qi as usize).saturating_sub(1),
            data,
            timeout: text(&timeout).and_then(|t| parse_timeout(&t)),
            hints: FinishHints {
                result_ttl: text(&rttl).unwrap_or_default(),
                has_dependencies: text(&deps).as_deref() == Some("1"),
                group_id: text(&group).unwrap_or_default(),
            },
        });
    }
    Claim::Jobs { jobs, at }
}

/// After a claim call failed (typically the connection dropped), finds the jobs it started
/// anyway: a slot whose worker hash names a job that holds the started-registry member
/// `<job>:<the execution id we sent for that slot>`. Reads only. The script is atomic, so
/// either every one of its jobs is found here or it did not run at all.
pub(crate) async fn recover(
    shared: &Shared,
    slots: &[(usize, String)],
    exec_ids: &[String],
) -> RedisResult<Vec<Claimed>> {
    let mut conn = shared.conn.clone();
    let mut p = redis::pipe();
    for (_, name) in slots {
        p.hget(keys::worker(name), "current_job");
    }
    let current: Vec<Option<String>> = p.query_async(&mut conn).await?;
    let queues = &shared.cfg.queues;
    let mut found = Vec::new();
    for (i, job) in current.into_iter().enumerate() {
        let (Some(id), Some(x)) = (job, exec_ids.get(i)) else {
            continue;
        };
        let member = keys::started_member(&id, x);
        let mut p = redis::pipe();
        for q in queues {
            p.zscore(keys::started(q), &member);
        }
        p.cmd("HMGET").arg(keys::job(&id)).arg(&[
            "data",
            "timeout",
            "result_ttl",
            "dependency_ids",
            "group_id",
        ]);
        let mut reply: Vec<Value> = p.query_async(&mut conn).await?;
        let fields = match reply.pop() {
            Some(Value::Array(f)) => f,
            _ => Vec::new(),
        };
        let mut fields = fields.into_iter();
        let data = match fields.next() {
            Some(Value::BulkString(b)) => b,
            _ => Vec::new(),
        };
        let timeout = fields
            .next()
            .and_then(|v| text(&v))
            .and_then(|t| parse_timeout(&t));
        let hints = FinishHints {
            result_ttl: fields.next().and_then(|v| text(&v)).unwrap_or_default(),
            has_dependencies: fields.next().is_some_and(|v| !matches!(v, Value::Nil)),
            group_id: fields.next().and_then(|v| text(&v)).unwrap_or_default(),
        };
        if let Some(queue) = reply.iter().position(|v| !matches!(v, Value::Nil)) {
            found.push(Claimed {
                slot: i,
                id,
                exec_id: x.clone(),
                queue,
                data,
                timeout,
                hints,
            });
        }
    }
    Ok(found)
}

/// RQ stores whole seconds; be lenient with floats. Absent = `None` (the caller's default).
fn parse_timeout(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().or_else(|| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f.ceil() as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_and_exec_ids() {
        assert_eq!(parse_timeout("180"), Some(180));
        assert_eq!(parse_timeout("-1"), Some(-1));
        assert_eq!(parse_timeout("2.5"), Some(3));
        assert_eq!(parse_timeout(""), None);
        let x = new_exec_id();
        assert_eq!(x.len(), 32);
        assert!(x.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
