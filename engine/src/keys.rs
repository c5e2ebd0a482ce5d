//! Every Redis key and channel name Taskmill reads or writes. Nothing else in the crate builds a
//! key string: RQ's layout has traps (`rq:job::<id>:dependencies` has a double colon, `rq:queues`
//! stores full keys while `rq:groups` stores bare names) and one file is easier to pin in a test.

pub const PREFIX: &str = "rq:";
/// Set of queue *keys* (`rq:queue:<q>`).
pub const QUEUES: &str = "rq:queues";
/// Set of worker *keys* (`rq:worker:<w>`).
pub const WORKERS: &str = "rq:workers";
pub const SUSPENDED: &str = "rq:suspended";
pub const QUEUE_PREFIX: &str = "rq:queue:";
pub const WORKER_PREFIX: &str = "rq:worker:";
pub const JOB_PREFIX: &str = "rq:job:";
/// Taskmill's own keys live outside `rq:` so Python tools never trip over them.
pub const AUDIT: &str = "taskmill:audit";

pub fn queue(name: &str) -> String {
    format!("rq:queue:{name}")
}
/// Strips `rq:queue:` from a member of `rq:queues`; `None` for anything else.
pub fn queue_name_from_key(key: &str) -> Option<&str> {
    key.strip_prefix(QUEUE_PREFIX)
}
pub fn intermediate(queue: &str) -> String {
    format!("rq:queue:{queue}:intermediate")
}
pub fn intermediate_first_seen(queue: &str, id: &str) -> String {
    format!("rq:queue:{queue}:intermediate:first_seen:{id}")
}
pub fn job(id: &str) -> String {
    format!("rq:job:{id}")
}
pub fn dependents(id: &str) -> String {
    format!("rq:job:{id}:dependents")
}
/// Note the double colon: RQ concatenates `rq:job:` with `:<id>:dependencies`.
pub fn dependencies(id: &str) -> String {
    format!("rq:job::{id}:dependencies")
}
pub fn results(id: &str) -> String {
    format!("rq:results:{id}")
}
pub fn execution(id: &str, execution_id: &str) -> String {
    format!("rq:execution:{id}:{execution_id}")
}
pub fn executions(id: &str) -> String {
    format!("rq:executions:{id}")
}
pub fn started(queue: &str) -> String {
    format!("rq:wip:{queue}")
}
pub fn finished(queue: &str) -> String {
    format!("rq:finished:{queue}")
}
pub fn failed(queue: &str) -> String {
    format!("rq:failed:{queue}")
}
pub fn deferred(queue: &str) -> String {
    format!("rq:deferred:{queue}")
}
pub fn scheduled(queue: &str) -> String {
    format!("rq:scheduled:{queue}")
}
pub fn canceled(queue: &str) -> String {
    format!("rq:canceled:{queue}")
}
/// Started-registry member: `<job id>:<execution id>`.
pub fn started_member(id: &str, execution_id: &str) -> String {
    format!("{id}:{execution_id}")
}
/// Splits a started-registry member on its first `:`; 1.16 members are a bare id.
pub fn parse_started_member(member: &str) -> (&str, Option<&str>) {
    match member.split_once(':') {
        Some((id, x)) => (id, Some(x)),
        None => (member, None),
    }
}
pub fn workers_of_queue(queue: &str) -> String {
    format!("rq:workers:{queue}")
}
pub fn worker(name: &str) -> String {
    format!("rq:worker:{name}")
}
pub fn worker_name_from_key(key: &str) -> Option<&str> {
    key.strip_prefix(WORKER_PREFIX)
}
pub fn pubsub(worker_name: &str) -> String {
    format!("rq:pubsub:{worker_name}")
}
pub fn scheduler_lock(queue: &str) -> String {
    format!("rq:scheduler-lock:{queue}")
}
pub fn scheduler(name: &str) -> String {
    format!("rq:scheduler:{name}")
}
pub fn clean_registries(queue: &str) -> String {
    format!("rq:clean_registries:{queue}")
}
pub fn group(name: &str) -> String {
    format!("rq:group:{name}")
}
pub const GROUPS: &str = "rq:groups";
/// Taskmill pool record: which RQ worker names are slots of one `taskmill worker` process.
pub fn pool(pool_id: &str) -> String {
    format!("taskmill:pool:{pool_id}")
}
pub const POOLS: &str = "taskmill:pools";
/// Short lock so that only one live Taskmill process reaps a queue at a time.
/// Failure groups (`engine::groups`): indexed failures, `<queue>\n<id>` → `<registry score>\t<ended_at>\t<fingerprint>\t<func>`.
pub const FG_JOBS: &str = "taskmill:fg:jobs";
/// Failure groups by size: fingerprint → count.
pub const FG_GROUPS: &str = "taskmill:fg:groups";
/// Index progress: the current pass (phase, queue, cursor, start) and `as_of`.
pub const FG_STATE: &str = "taskmill:fg:state";
/// Held by whoever advances the index (one driver at a time; correctness does not need it).
pub const FG_LOCK: &str = "taskmill:fg:lock";
/// One group's failures, `<queue>\n<id>` scored by failure time.
pub fn fg_group(fingerprint: &str) -> String {
    format!("taskmill:fg:g:{fingerprint}")
}
/// One group's description and counts per queue (`q\n<queue>`) and function (`f\n<func>`).
pub fn fg_meta(fingerprint: &str) -> String {
    format!("taskmill:fg:meta:{fingerprint}")
}
/// The index's member for one failure.
pub fn fg_member(queue: &str, id: &str) -> String {
    format!("{queue}\n{id}")
}
pub fn reaper_lock(queue: &str) -> String {
    format!("taskmill:reaper-lock:{queue}")
}

/// History (`engine::stats`). Resolution `res` is `m` (1-minute buckets, one key per hour) or
/// `h` (1-hour buckets, one key per day); `start` is the key's first second (unix); `scope` is
/// [`STATS_ALL`] or [`stats_scope`]`(queue)`. Counters: fields `f<i>` / `x<i>` (finished /
/// failed in bucket `i` of the key). Gauges: field `<i>` → `depth started latency busy idle`.
pub fn stats_counts(res: &str, start: &str, scope: &str) -> String {
    format!("taskmill:stats:c:{res}:{start}:{scope}")
}
pub fn stats_gauges(res: &str, start: &str, scope: &str) -> String {
    format!("taskmill:stats:g:{res}:{start}:{scope}")
}
/// The scope of every queue together.
pub const STATS_ALL: &str = "all";
/// One queue's scope (prefixed so no queue name can be [`STATS_ALL`]).
pub fn stats_scope(queue: &str) -> String {
    format!("q:{queue}")
}
/// One function's runs: field `<i>` → `count failed total_us bucket:n ...`.
pub fn stats_function(res: &str, start: &str, func: &str) -> String {
    format!("taskmill:stats:f:{res}:{start}:{func}")
}
/// Set of the functions that have a [`stats_function`] key with this `res` and `start`.
pub fn stats_functions(res: &str, start: &str) -> String {
    format!("taskmill:stats:fi:{res}:{start}")
}
/// Running totals of one queue for `/metrics` (no TTL): `finished`, `failed`, `nfn` (functions
/// tracked), and per function `c\t<f>` (runs), `s\t<f>` (µs), `h\t<f>\t<bucket>` (runs).
pub fn stats_totals(queue: &str) -> String {
    format!("taskmill:stats:t:{queue}")
}
/// Retention in seconds (`minute_ttl`, `hour_ttl`), written by the console, read by writers.
pub const STATS_CONFIG: &str = "taskmill:stats:config";
/// Python workers' counters as last sampled: worker name → `successful failed`.
pub const STATS_RQ_SEEN: &str = "taskmill:stats:rqw";
/// When the Python workers' counters were last sampled (unix seconds).
pub const STATS_RQ_SEEN_AT: &str = "taskmill:stats:rqw_at";
/// Taken (`SET NX EX`) by the console that samples interval slot `slot` (`now / interval`).
pub fn stats_lock(interval: u64, slot: i64) -> String {
    format!("taskmill:stats:lock:{interval}:{slot}")
}
/// SCAN pattern of job hashes (search; also matches `rq:job:<id>:dependents`, filtered out).
pub const JOB_SCAN_PATTERN: &str = "rq:job:*";

/// Concurrency and rate limits (`engine::throttle`). A limit id is `fn:<function>` or
/// `q:<queue>`. Registry of the limits workers run with: limit id → config JSON (refreshed by
/// every `--limits` worker's tick, so the console lists them without being told).
pub const LIMITS: &str = "taskmill:limits";
/// Who holds a permit: `<job id>:<execution id>` scored by lease expiry (unix seconds).
pub fn limit_holders(limit: &str) -> String {
    format!("taskmill:limit:{limit}:holders")
}
/// Starts inside the rate window: `<job id>:<execution id>` scored by start time.
pub fn limit_starts(limit: &str) -> String {
    format!("taskmill:limit:{limit}:starts")
}
/// Jobs parked because this limit was full, oldest first (ids; status stays `queued`).
pub fn limit_waiting(limit: &str) -> String {
    format!("taskmill:limit:{limit}:waiting")
}
/// Chords (`engine::chord`): the callback and state of an RQ group (`rq:group:<name>`).
pub fn chord(name: &str) -> String {
    format!("taskmill:chord:{name}")
}
/// The chord's own copy of its member ids (RQ's maintenance trims `rq:group:<name>`).
pub fn chord_members(name: &str) -> String {
    format!("taskmill:chord:{name}:members")
}
/// Members seen ended (finished, failed for good, stopped, canceled, gone).
pub fn chord_ended(name: &str) -> String {
    format!("taskmill:chord:{name}:ended")
}
/// Every chord, name → creation time (listing, newest first).
pub const CHORDS: &str = "taskmill:chords";
/// Chords not yet completed or ready to fire, name → next check time (the tick's work list).
pub const CHORDS_OPEN: &str = "taskmill:chords:open";

/// RQ 2.12 cron (`rq/cron.py`): scheduler hash, scheduler registry (zset name → heartbeat),
/// per-job history (zset job id → enqueued_at), job-name registry (zset name → last enqueue).
pub const CRON_SCHEDULERS: &str = "rq:cron_schedulers";
pub const CRON_JOBS: &str = "rq:cron_jobs";
pub fn cron_scheduler(name: &str) -> String {
    format!("rq:cron_scheduler:{name}")
}
pub fn cron_job_history(name: &str) -> String {
    format!("rq:cron_job:{name}:jobs")
}
/// Taskmill's per-tick lock: the last tick (unix seconds) enqueued for a cron job.
pub fn cron_last(name: &str) -> String {
    format!("taskmill:cron:last:{name}")
}
/// Commands to a supervised Python pool (`taskmill pool`): `scale` goes here, not to a worker.
pub fn pool_commands(pool_id: &str) -> String {
    format!("taskmill:pool:{pool_id}:commands")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_rq_2_12() {
        assert_eq!(queue("default"), "rq:queue:default");
        assert_eq!(JOB_SCAN_PATTERN, format!("{JOB_PREFIX}*"));
        assert_eq!(intermediate("q"), "rq:queue:q:intermediate");
        assert_eq!(
            intermediate_first_seen("q", "j"),
            "rq:queue:q:intermediate:first_seen:j"
        );
        assert_eq!(job("a"), "rq:job:a");
        assert_eq!(dependents("a"), "rq:job:a:dependents");
        assert_eq!(dependencies("a"), "rq:job::a:dependencies");
        assert_eq!(results("a"), "rq:results:a");
        assert_eq!(execution("a", "x"), "rq:execution:a:x");
        assert_eq!(executions("a"), "rq:executions:a");
        assert_eq!(started("q"), "rq:wip:q");
        assert_eq!(finished("q"), "rq:finished:q");
        assert_eq!(failed("q"), "rq:failed:q");
        assert_eq!(deferred("q"), "rq:deferred:q");
        assert_eq!(scheduled("q"), "rq:scheduled:q");
        assert_eq!(canceled("q"), "rq:canceled:q");
        assert_eq!(workers_of_queue("q"), "rq:workers:q");
        assert_eq!(worker("w"), "rq:worker:w");
        assert_eq!(pubsub("w"), "rq:pubsub:w");
        assert_eq!(scheduler_lock("q"), "rq:scheduler-lock:q");
        assert_eq!(scheduler("s"), "rq:scheduler:s");
        assert_eq!(clean_registries("q"), "rq:clean_registries:q");
        assert_eq!(group("g"), "rq:group:g");
        assert_eq!(fg_group("ab"), "taskmill:fg:g:ab");
        assert_eq!(fg_meta("ab"), "taskmill:fg:meta:ab");
        assert_eq!(fg_member("q", "j"), "q\nj");
        assert_eq!(
            stats_counts("m", "3600", &stats_scope("a:b")),
            "taskmill:stats:c:m:3600:q:a:b"
        );
        assert_eq!(
            stats_gauges("h", "0", STATS_ALL),
            "taskmill:stats:g:h:0:all"
        );
        assert_eq!(
            stats_function("m", "7200", "f.g"),
            "taskmill:stats:f:m:7200:f.g"
        );
        assert_eq!(stats_functions("h", "0"), "taskmill:stats:fi:h:0");
        assert_eq!(stats_totals("q"), "taskmill:stats:t:q");
        assert_eq!(stats_lock(10, 5), "taskmill:stats:lock:10:5");
        assert_eq!(limit_holders("fn:a.b"), "taskmill:limit:fn:a.b:holders");
        assert_eq!(limit_starts("q:r"), "taskmill:limit:q:r:starts");
        assert_eq!(limit_waiting("q:r"), "taskmill:limit:q:r:waiting");
        assert_eq!(chord("g"), "taskmill:chord:g");
        assert_eq!(chord_members("g"), "taskmill:chord:g:members");
        assert_eq!(chord_ended("g"), "taskmill:chord:g:ended");
        assert_eq!(cron_scheduler("h:1:ab"), "rq:cron_scheduler:h:1:ab");
        assert_eq!(cron_job_history("n"), "rq:cron_job:n:jobs");
        assert_eq!(cron_last("n"), "taskmill:cron:last:n");
        assert_eq!(pool_commands("p"), "taskmill:pool:p:commands");
    }

    #[test]
    fn started_members_split_on_first_colon() {
        assert_eq!(parse_started_member("j:x"), ("j", Some("x")));
        assert_eq!(parse_started_member("legacy"), ("legacy", None));
        assert_eq!(queue_name_from_key("rq:queue:a:b"), Some("a:b"));
        assert_eq!(queue_name_from_key("other"), None);
    }
}

/// Celery's (kombu's Redis transport) keys and channels, and Taskmill's own records about
/// Celery under `taskmill:celery:`. `p` is the transport's `global_keyprefix` ("" by default);
/// see /work/shared/celery/celery-redis-schema.md for the layout.
pub mod celery {
    /// kombu's default separator between a queue name and its priority step.
    pub const SEP: &str = "\x06\x16";
    /// Exchanges whose bindings are kombu's plumbing, not task queues.
    pub const SYSTEM_EXCHANGES: [&str; 3] = ["celery.pidbox", "celeryev", "reply.celery.pidbox"];

    /// The list holding priority step `step` of `queue` (step 0 has no suffix).
    pub fn queue_list(p: &str, queue: &str, sep: &str, step: u8) -> String {
        if step == 0 {
            format!("{p}{queue}")
        } else {
            format!("{p}{queue}{sep}{step}")
        }
    }
    /// `SCAN MATCH` pattern of the binding sets.
    pub fn binding_pattern(p: &str) -> String {
        format!("{p}_kombu.binding.*")
    }
    pub fn binding(p: &str, exchange: &str) -> String {
        format!("{p}_kombu.binding.{exchange}")
    }
    /// The exchange named by a binding-set key, `None` for `binding_permanent.*`, the
    /// deadlines zset and anything else.
    pub fn exchange_of_binding<'a>(p: &str, key: &'a str) -> Option<&'a str> {
        key.strip_prefix(p)?.strip_prefix("_kombu.binding.")
    }
    pub fn binding_permanent(p: &str, exchange: &str) -> String {
        format!("{p}_kombu.binding_permanent.{exchange}")
    }
    pub fn binding_deadlines(p: &str) -> String {
        format!("{p}_kombu.binding_deadlines")
    }
    pub fn unacked(p: &str) -> String {
        format!("{p}unacked")
    }
    pub fn unacked_index(p: &str) -> String {
        format!("{p}unacked_index")
    }
    pub fn unacked_mutex(p: &str) -> String {
        format!("{p}unacked_mutex")
    }
    /// A member of a binding set: `routing_key SEP pattern SEP queue`.
    pub fn binding_member(routing_key: &str, queue: &str, sep: &str) -> String {
        format!("{routing_key}{sep}{sep}{queue}")
    }
    /// Pub/sub channels carry `/<db>.` (kombu's fanout prefix) after the global prefix.
    pub fn events_pattern(p: &str, db: i64) -> String {
        format!("{p}/{db}.celeryev/*")
    }
    pub fn pidbox_channel(p: &str, db: i64) -> String {
        format!("{p}/{db}.celery.pidbox")
    }
    /// Where workers LPUSH replies to a control request whose reply_to routing key is `oid`.
    pub fn reply_queue(oid: &str) -> String {
        format!("{oid}.reply.celery.pidbox")
    }
    pub const REPLY_EXCHANGE: &str = "reply.celery.pidbox";
    pub const PIDBOX_EXCHANGE: &str = "celery.pidbox";

    /// Result backend keys (`b` = the backend's own prefix).
    pub fn task_meta(b: &str, id: &str) -> String {
        format!("{b}celery-task-meta-{id}")
    }
    pub fn taskset_meta(b: &str, group_id: &str) -> String {
        format!("{b}celery-taskset-meta-{group_id}")
    }

    /// Taskmill's task records: a hash per task, a zset of all ids by first-seen time, one
    /// zset per state and per task name (same scores), children of a task, captured messages.
    pub const TASKS: &str = "taskmill:celery:tasks";
    pub fn task(id: &str) -> String {
        format!("taskmill:celery:task:{id}")
    }
    pub fn tasks_in_state(state: &str) -> String {
        format!("taskmill:celery:state:{state}")
    }
    pub fn tasks_named(name: &str) -> String {
        format!("taskmill:celery:name:{name}")
    }
    /// Task names seen, scored by count of tasks (the filter's choices).
    pub const NAMES: &str = "taskmill:celery:names";
    pub fn children(id: &str) -> String {
        format!("taskmill:celery:children:{id}")
    }
    /// The original envelope of a task as captured from a queue (for retry).
    pub fn message(id: &str) -> String {
        format!("taskmill:celery:msg:{id}")
    }

    /// Celery's failure-group index (`celery::groups`; same layout as RQ's `taskmill:fg:*`):
    /// fingerprint → size, one zset of task ids per group (scored by failure time), the
    /// group's meta (exc_type, example, `q\n<queue>` / `f\n<task name>` counts), and every
    /// indexed task id → `fingerprint\tname\tqueue`, plus all indexed ids by failure time.
    pub const FG_GROUPS: &str = "taskmill:celery:fg:groups";
    pub const FG_STATE: &str = "taskmill:celery:fg:state";
    pub const FG_TASKS: &str = "taskmill:celery:fg:tasks";
    pub const FG_ALL: &str = "taskmill:celery:fg:all";
    pub fn fg_group(fingerprint: &str) -> String {
        format!("taskmill:celery:fg:group:{fingerprint}")
    }
    pub fn fg_meta(fingerprint: &str) -> String {
        format!("taskmill:celery:fg:meta:{fingerprint}")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn layout() {
            assert_eq!(queue_list("", "q", SEP, 0), "q");
            assert_eq!(queue_list("", "q", SEP, 3), "q\x06\x163");
            assert_eq!(queue_list("pre:", "q", SEP, 9), "pre:q\x06\x169");
            assert_eq!(binding("", "celery"), "_kombu.binding.celery");
            assert_eq!(exchange_of_binding("", "_kombu.binding.work"), Some("work"));
            assert_eq!(
                exchange_of_binding("", "_kombu.binding_permanent.work"),
                None
            );
            assert_eq!(
                binding_member("work", "work", SEP),
                "work\x06\x16\x06\x16work"
            );
            assert_eq!(events_pattern("", 3), "/3.celeryev/*");
            assert_eq!(pidbox_channel("", 0), "/0.celery.pidbox");
            assert_eq!(reply_queue("o"), "o.reply.celery.pidbox");
            assert_eq!(task_meta("", "x"), "celery-task-meta-x");
            assert_eq!(task("x"), "taskmill:celery:task:x");
            assert_eq!(tasks_in_state("SUCCESS"), "taskmill:celery:state:SUCCESS");
        }
    }
}
