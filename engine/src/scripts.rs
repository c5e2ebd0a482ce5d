//! Every Lua script of the crate (`engine/lua/`), loaded once, and the one way scripts learn the
//! key layout.
//!
//! Most scripts get all their keys in `KEYS`. Those that build keys inside Redis (claim pops ids,
//! finish walks dependents, an action reads a job's origin from its hash) get the templates of
//! `keys.rs` compiled into their text: a Lua table `KT` (name → the literal parts around each
//! `{}`) and `K(name, a, b)` from `lua/key_lib.lua`. So the layout is still spelled out in one
//! place only, and no template is sent or parsed per call. Every `K('name')` a script uses is
//! checked against the table by a test.
//!
//! A script is `KT` + `key_lib` + its preludes + its body:
//! - worker (`finish_lib`, `claim_lib`): claim, finish, reap; the scheduler's move;
//! - operator actions (`actions_prelude`): cancel, delete, empty, enqueue_now, requeue(_failed);
//! - plain: heartbeat, schedule lock/unlock, enqueue(_many), registry_cut, data_heads.

use std::sync::LazyLock;

use redis::Script;

use crate::keys;

const KEY_LIB: &str = include_str!("../lua/key_lib.lua");
const FINISH_LIB: &str = include_str!("../lua/finish_lib.lua");
const CLAIM_LIB: &str = include_str!("../lua/claim_lib.lua");
const ACTIONS_LIB: &str = include_str!("../lua/actions_prelude.lua");

type Lazy = LazyLock<Script>;

// The worker (`worker/claim.rs`, `finish.rs`, `reaper.rs`, `heartbeat.rs`).
pub(crate) static CLAIM: Lazy =
    Lazy::new(|| keyed(&[FINISH_LIB, CLAIM_LIB], include_str!("../lua/claim.lua")));
pub(crate) static FINISH: Lazy = Lazy::new(|| {
    keyed(
        &[FINISH_LIB, CLAIM_LIB, STATS_LIB, CHORD_LIB],
        include_str!("../lua/finish.lua"),
    )
});
pub(crate) static REAP: Lazy = Lazy::new(|| keyed(&[FINISH_LIB], include_str!("../lua/reap.lua")));
pub(crate) static HEARTBEAT: Lazy = Lazy::new(|| Script::new(include_str!("../lua/heartbeat.lua")));

// The scheduler.
pub(crate) static SCHEDULE_LOCK: Lazy =
    Lazy::new(|| Script::new(include_str!("../lua/schedule_lock.lua")));
pub(crate) static SCHEDULE_UNLOCK: Lazy =
    Lazy::new(|| Script::new(include_str!("../lua/schedule_unlock.lua")));
pub(crate) static SCHEDULE_MOVE: Lazy =
    Lazy::new(|| keyed(&[FINISH_LIB], include_str!("../lua/schedule_move.lua")));

// Producing.
pub(crate) static ENQUEUE: Lazy = Lazy::new(|| Script::new(include_str!("../lua/enqueue.lua")));
pub(crate) static ENQUEUE_MANY: Lazy =
    Lazy::new(|| Script::new(include_str!("../lua/enqueue_many.lua")));

// Reads.
pub(crate) static REGISTRY_CUT: Lazy =
    Lazy::new(|| Script::new(include_str!("../lua/registry_cut.lua")));
/// Source of the read-only data-heads script, sent with EVAL inside the row pipeline (an
/// EVALSHA there would not be retried after a NOSCRIPT; Redis caches the compiled body anyway).
pub(crate) const DATA_HEADS: &str = include_str!("../lua/data_heads.lua");

// Failure groups (`groups/index.rs`): the index is Taskmill's own keys; RQ's are only read.
const GROUPS_LIB: &str = include_str!("../lua/groups_lib.lua");
pub(crate) static GROUPS_SCAN: Lazy =
    Lazy::new(|| keyed(&[GROUPS_LIB], include_str!("../lua/groups_scan.lua")));
pub(crate) static GROUPS_APPLY: Lazy =
    Lazy::new(|| keyed(&[GROUPS_LIB], include_str!("../lua/groups_apply.lua")));
pub(crate) static GROUPS_PRUNE: Lazy =
    Lazy::new(|| keyed(&[GROUPS_LIB], include_str!("../lua/groups_prune.lua")));

// History (`stats/`): finish.lua records with it too.
const STATS_LIB: &str = include_str!("../lua/stats_lib.lua");
pub(crate) static STATS_SAMPLE: Lazy =
    Lazy::new(|| keyed(&[STATS_LIB], include_str!("../lua/stats_sample.lua")));
pub(crate) static STATS_RECORD: Lazy =
    Lazy::new(|| keyed(&[STATS_LIB], include_str!("../lua/stats_record.lua")));

// Operator actions (`actions/*`).
pub(crate) static CANCEL: Lazy = Lazy::new(|| action(include_str!("../lua/cancel.lua")));
pub(crate) static DELETE: Lazy = Lazy::new(|| action(include_str!("../lua/delete.lua")));
pub(crate) static EMPTY: Lazy = Lazy::new(|| action(include_str!("../lua/empty.lua")));
pub(crate) static ENQUEUE_NOW: Lazy = Lazy::new(|| action(include_str!("../lua/enqueue_now.lua")));
pub(crate) static REQUEUE: Lazy = Lazy::new(|| action(include_str!("../lua/requeue.lua")));
pub(crate) static REQUEUE_FAILED: Lazy =
    Lazy::new(|| action(include_str!("../lua/requeue_failed.lua")));

// Concurrency and rate limits (`throttle`, `worker/limiter.rs`).
const THROTTLE_LIB: &str = include_str!("../lua/throttle_lib.lua");
pub(crate) static THROTTLE_ACQUIRE: Lazy =
    Lazy::new(|| keyed(&[THROTTLE_LIB], include_str!("../lua/throttle_acquire.lua")));
pub(crate) static THROTTLE_TICK: Lazy =
    Lazy::new(|| keyed(&[THROTTLE_LIB], include_str!("../lua/throttle_tick.lua")));

// Chords (`chord`): RQ groups with a callback; finish.lua records members ending too.
const CHORD_LIB: &str = include_str!("../lua/chord_lib.lua");
pub(crate) static CHORD_CREATE: Lazy =
    Lazy::new(|| keyed(&[CHORD_LIB], include_str!("../lua/chord_create.lua")));
pub(crate) static CHORD_TICK: Lazy =
    Lazy::new(|| keyed(&[CHORD_LIB], include_str!("../lua/chord_tick.lua")));
pub(crate) static CHORD_FIRE: Lazy =
    Lazy::new(|| Script::new(include_str!("../lua/chord_fire.lua")));

// Cron (`cron/state.rs`): the per-tick check and history, then enqueue.lua's body.
pub(crate) static CRON_ENQUEUE: Lazy = Lazy::new(|| {
    Script::new(&format!(
        "{}\n{}",
        include_str!("../lua/cron_enqueue.lua"),
        include_str!("../lua/enqueue.lua")
    ))
});

// Supervised Python pools (`pypool.rs`).
pub(crate) static POOL_ADOPT: Lazy =
    Lazy::new(|| Script::new(include_str!("../lua/pool_adopt.lua")));

// Celery (`celery/tasks.rs`): Taskmill's task records, every key in KEYS.
pub(crate) static CELERY_RECORD: Lazy =
    Lazy::new(|| Script::new(include_str!("../lua/celery_record.lua")));

// Celery history (`celery/history.rs`): the failure-group index fed by task events, and the
// sampled gauges of Celery queues (stats_lib's writer, like the sampler's).
pub(crate) static CELERY_GROUPS: Lazy =
    Lazy::new(|| Script::new(include_str!("../lua/celery_groups.lua")));
pub(crate) static CELERY_STATS_SAMPLE: Lazy =
    Lazy::new(|| keyed(&[STATS_LIB], include_str!("../lua/celery_stats_sample.lua")));

fn action(body: &str) -> Script {
    keyed(&[ACTIONS_LIB], body)
}

/// `KT` + `K()` + the preludes + the script itself.
fn keyed(libs: &[&str], body: &str) -> Script {
    Script::new(&keyed_text(libs, body))
}

fn keyed_text(libs: &[&str], body: &str) -> String {
    let mut text = key_table();
    for lib in [KEY_LIB].iter().chain(libs) {
        text.push_str(lib);
        text.push('\n');
    }
    text.push_str(body);
    text
}

/// The templates `K(name, ...)` knows, by name.
fn named_templates() -> Vec<(&'static str, String)> {
    const P: &str = "{}";
    vec![
        ("job", keys::job(P)),
        ("dependents", keys::dependents(P)),
        ("dependencies", keys::dependencies(P)),
        ("results", keys::results(P)),
        ("execution", keys::execution(P, P)),
        ("executions", keys::executions(P)),
        ("queue", keys::queue(P)),
        ("intermediate", keys::intermediate(P)),
        ("first_seen", keys::intermediate_first_seen(P, P)),
        ("started", keys::started(P)),
        ("finished", keys::finished(P)),
        ("failed", keys::failed(P)),
        ("deferred", keys::deferred(P)),
        ("scheduled", keys::scheduled(P)),
        ("canceled", keys::canceled(P)),
        ("worker", keys::worker(P)),
        ("group", keys::group(P)),
        ("queues", keys::QUEUES.to_string()),
        ("fg_group", keys::fg_group(P)),
        ("fg_meta", keys::fg_meta(P)),
        ("fg_jobs", keys::FG_JOBS.to_string()),
        ("fg_groups", keys::FG_GROUPS.to_string()),
        ("stats_c_m", keys::stats_counts("m", P, P)),
        ("stats_c_h", keys::stats_counts("h", P, P)),
        ("stats_g_m", keys::stats_gauges("m", P, P)),
        ("stats_g_h", keys::stats_gauges("h", P, P)),
        ("stats_f_m", keys::stats_function("m", P, P)),
        ("stats_f_h", keys::stats_function("h", P, P)),
        ("stats_fi_m", keys::stats_functions("m", P)),
        ("stats_fi_h", keys::stats_functions("h", P)),
        ("stats_t", keys::stats_totals(P)),
        ("stats_scope", keys::stats_scope(P)),
        ("stats_all", keys::STATS_ALL.to_string()),
        ("stats_config", keys::STATS_CONFIG.to_string()),
        ("stats_rq_seen", keys::STATS_RQ_SEEN.to_string()),
        ("stats_rq_seen_at", keys::STATS_RQ_SEEN_AT.to_string()),
        ("groups", keys::GROUPS.to_string()),
        ("limit_holders", keys::limit_holders(P)),
        ("limit_starts", keys::limit_starts(P)),
        ("limit_waiting", keys::limit_waiting(P)),
        ("chord", keys::chord(P)),
        ("chord_members", keys::chord_members(P)),
        ("chord_ended", keys::chord_ended(P)),
        ("chords", keys::CHORDS.to_string()),
        ("chords_open", keys::CHORDS_OPEN.to_string()),
    ]
}

/// `local KT = {job = {"rq:job:", ""}, ...}` for `key_lib.lua`.
fn key_table() -> String {
    let mut out = String::from("local KT = {\n");
    for (name, template) in named_templates() {
        let parts: Vec<String> = template.split("{}").map(lua_string).collect();
        out.push_str(&format!("  {name} = {{{}}},\n", parts.join(", ")));
    }
    out.push_str("}\n");
    out
}

/// A Lua string literal: every byte outside printable ASCII, and `"` `\`, as a decimal escape.
fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\{b:03}"));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_table_is_built_from_keys_rs() {
        let kt = key_table();
        assert!(kt.starts_with("local KT = {\n"));
        let job = format!("  job = {{{}, \"\"}},\n", lua_string(&keys::job("")));
        assert!(kt.contains(&job), "{kt}");
        assert!(kt.contains("  job = {\"rq:job:\", \"\"},\n"), "{kt}");
        assert!(kt.contains("  dependencies = {\"rq:job::\", \":dependencies\"},\n"));
        assert!(kt.contains("  started = {\"rq:wip:\", \"\"},\n"), "{kt}");
        let (a, b) = keys::execution("A", "B")
            .split_once('A')
            .map(|(a, rest)| (a.to_string(), rest.to_string()))
            .unwrap();
        let (mid, end) = b.split_once('B').unwrap();
        assert!(kt.contains(&format!(
            "  execution = {{{}, {}, {}}},\n",
            lua_string(&a),
            lua_string(mid),
            lua_string(end)
        )));
        assert_eq!(lua_string("a\"b\\c\n"), "\"a\\034b\\092c\\010\"");
    }

    /// Every literal `K('name')` of every keyed script has a template. (`registry_of` and
    /// delete.lua also pass registry names as variables: deferred, scheduled, finished,
    /// canceled, failed — listed here.)
    #[test]
    fn every_key_name_the_scripts_use_has_a_template() {
        let lua = [
            KEY_LIB,
            FINISH_LIB,
            CLAIM_LIB,
            ACTIONS_LIB,
            include_str!("../lua/claim.lua"),
            include_str!("../lua/finish.lua"),
            include_str!("../lua/reap.lua"),
            include_str!("../lua/schedule_move.lua"),
            include_str!("../lua/cancel.lua"),
            include_str!("../lua/delete.lua"),
            include_str!("../lua/empty.lua"),
            include_str!("../lua/enqueue_now.lua"),
            include_str!("../lua/requeue.lua"),
            include_str!("../lua/requeue_failed.lua"),
            GROUPS_LIB,
            include_str!("../lua/groups_scan.lua"),
            include_str!("../lua/groups_apply.lua"),
            include_str!("../lua/groups_prune.lua"),
            STATS_LIB,
            include_str!("../lua/stats_sample.lua"),
            include_str!("../lua/stats_record.lua"),
            include_str!("../lua/celery_stats_sample.lua"),
            THROTTLE_LIB,
            include_str!("../lua/throttle_acquire.lua"),
            include_str!("../lua/throttle_tick.lua"),
            CHORD_LIB,
            include_str!("../lua/chord_create.lua"),
            include_str!("../lua/chord_tick.lua"),
        ]
        .concat();
        let names: Vec<&str> = named_templates().iter().map(|(n, _)| *n).collect();
        let used = lua
            .split("K('")
            .skip(1)
            .map(|u| u.split('\'').next().unwrap());
        let mut dynamic = vec!["deferred", "scheduled", "finished", "canceled", "failed"];
        // stats_lib picks the resolution at run time (`K('stats_c_' .. res, ...)`): both exist.
        dynamic.extend([
            "stats_c_m",
            "stats_c_h",
            "stats_g_m",
            "stats_g_h",
            "stats_f_m",
            "stats_f_h",
            "stats_fi_m",
            "stats_fi_h",
        ]);
        let used = used.filter(|n| !n.ends_with('_'));
        for name in used.chain(dynamic) {
            assert!(names.contains(&name), "template {name} is not generated");
        }
        // No script reads templates from its arguments any more.
        assert!(!lua.contains("cjson.decode(ARGV"));
    }

    #[test]
    fn keyed_scripts_open_with_the_table_then_k() {
        let text = keyed_text(&[ACTIONS_LIB], "return 1");
        let kt = text.find("local KT = {").unwrap();
        let k = text.find("local function K(").unwrap();
        let body = text.find("return 1").unwrap();
        assert!(kt < k && k < body);
    }
}
