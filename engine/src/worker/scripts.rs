//! The worker's Lua scripts, loaded once, with the key templates they build ids into.
//!
//! Scripts that discover ids inside Redis (claim pops them, finish walks dependents) build keys
//! from templates of `keys.rs` (`rq:job:{}` …). They are compiled into the shared prelude
//! `finish_lib.lua` as a Lua table `KT` (name → the literal parts around each `{}`), so the
//! layout is still spelled out in one place only and nothing is parsed per call.

use std::sync::OnceLock;

use redis::Script;

use crate::keys;

const FINISH_LIB: &str = include_str!("../../lua/finish_lib.lua");
const CLAIM_LIB: &str = include_str!("../../lua/claim_lib.lua");

/// `KT` + the prelude (+ the claim step for claim and finish) + the script itself.
fn build(libs: &[&str], script: &str) -> Script {
    let mut text = key_table();
    for lib in libs {
        text.push_str(lib);
        text.push('\n');
    }
    text.push_str(script);
    Script::new(&text)
}

pub(crate) struct Scripts {
    pub claim: Script,
    pub finish: Script,
    pub heartbeat: Script,
    pub reap: Script,
    pub schedule_lock: Script,
    pub schedule_unlock: Script,
    pub schedule_move: Script,
}

pub(crate) fn scripts() -> &'static Scripts {
    static S: OnceLock<Scripts> = OnceLock::new();
    S.get_or_init(|| Scripts {
        claim: build(
            &[FINISH_LIB, CLAIM_LIB],
            include_str!("../../lua/claim.lua"),
        ),
        finish: build(
            &[FINISH_LIB, CLAIM_LIB],
            include_str!("../../lua/finish.lua"),
        ),
        heartbeat: Script::new(include_str!("../../lua/heartbeat.lua")),
        reap: build(&[FINISH_LIB], include_str!("../../lua/reap.lua")),
        schedule_lock: Script::new(include_str!("../../lua/schedule_lock.lua")),
        schedule_unlock: Script::new(include_str!("../../lua/schedule_unlock.lua")),
        schedule_move: build(&[FINISH_LIB], include_str!("../../lua/schedule_move.lua")),
    })
}

/// The templates the prelude's `K(name, ...)` knows, by name.
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
        ("worker", keys::worker(P)),
        ("queues", keys::QUEUES.to_string()),
    ]
}

/// `local KT = {job = {"rq:job:", ""}, ...}` for the prelude.
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

/// `ARGV[1]` the scheduler still passes to `schedule_move.lua` (unused since the templates are
/// compiled in; kept so that script's argument positions stay): one template per line.
pub(crate) fn templates() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        named_templates()
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join("\n")
    })
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
        // Every name the scripts use has a template.
        let lua = [
            FINISH_LIB,
            CLAIM_LIB,
            include_str!("../../lua/claim.lua"),
            include_str!("../../lua/finish.lua"),
            include_str!("../../lua/reap.lua"),
            include_str!("../../lua/schedule_move.lua"),
        ]
        .concat();
        let names: Vec<&str> = named_templates().iter().map(|(n, _)| *n).collect();
        for used in lua.split("K('").skip(1) {
            let name = used.split('\'').next().unwrap();
            assert!(names.contains(&name), "template {name} is not generated");
        }
    }
}
