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
