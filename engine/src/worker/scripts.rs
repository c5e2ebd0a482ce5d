//! The worker's Lua scripts, loaded once, plus the key templates they build ids into.
//!
//! Scripts that discover ids inside Redis (claim pops them, finish walks dependents) get the
//! key layout from `keys.rs` as templates (`rq:job:{}` …) in `ARGV[1]`, interpreted by the
//! shared prelude `finish_lib.lua`, so the layout is still spelled out in one place only.

use std::sync::OnceLock;

use redis::Script;

use crate::keys;

/// Claim and finish share the claim step (`claim_lib.lua`) on top of the prelude.
macro_rules! with_claim_lib {
    ($file:literal) => {
        concat!(
            include_str!("../../lua/finish_lib.lua"),
            "\n",
            include_str!("../../lua/claim_lib.lua"),
            "\n",
            include_str!(concat!("../../lua/", $file))
        )
    };
}

macro_rules! with_prelude {
    ($file:literal) => {
        concat!(
            include_str!("../../lua/finish_lib.lua"),
            "\n",
            include_str!(concat!("../../lua/", $file))
        )
    };
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
        claim: Script::new(with_claim_lib!("claim.lua")),
        finish: Script::new(with_claim_lib!("finish.lua")),
        heartbeat: Script::new(include_str!("../../lua/heartbeat.lua")),
        reap: Script::new(with_prelude!("reap.lua")),
        schedule_lock: Script::new(include_str!("../../lua/schedule_lock.lua")),
        schedule_unlock: Script::new(include_str!("../../lua/schedule_unlock.lua")),
        schedule_move: Script::new(with_prelude!("schedule_move.lua")),
    })
}

/// `ARGV[1]` of the prelude scripts: one template per line, in `finish_lib.lua`'s order.
pub(crate) fn templates() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        const P: &str = "{}";
        [
            keys::job(P),
            keys::dependents(P),
            keys::dependencies(P),
            keys::results(P),
            keys::execution(P, P),
            keys::executions(P),
            keys::queue(P),
            keys::intermediate(P),
            keys::intermediate_first_seen(P, P),
            keys::started(P),
            keys::finished(P),
            keys::failed(P),
            keys::deferred(P),
            keys::scheduled(P),
            keys::worker(P),
            keys::QUEUES.to_string(),
        ]
        .join("\n")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_follow_the_prelude_order() {
        use crate::keys;
        // Same order as `KI` in finish_lib.lua.
        let expected = [
            keys::job("{}"),
            keys::dependents("{}"),
            keys::dependencies("{}"),
            keys::results("{}"),
            keys::execution("{}", "{}"),
            keys::executions("{}"),
            keys::queue("{}"),
            keys::intermediate("{}"),
            keys::intermediate_first_seen("{}", "{}"),
            keys::started("{}"),
            keys::finished("{}"),
            keys::failed("{}"),
            keys::deferred("{}"),
            keys::scheduled("{}"),
            keys::worker("{}"),
            keys::QUEUES.to_string(),
        ];
        let lines: Vec<&str> = super::templates().lines().collect();
        assert_eq!(
            lines,
            expected.iter().map(String::as_str).collect::<Vec<_>>()
        );
        let lib = include_str!("../../lua/finish_lib.lua");
        for (i, name) in ["job = 1", "queues = 16", "worker = 15", "first_seen = 9"]
            .iter()
            .enumerate()
        {
            assert!(lib.contains(name), "prelude index {i}: {name}");
        }
    }
}
