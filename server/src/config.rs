//! `--config FILE` (`taskmill.toml`) and `TASKMILL_<FLAG>` for every flag of every subcommand.
//!
//! Precedence, first wins: the command line, the environment, the config file, the default.
//! clap already orders the command line before the environment before the default, so the
//! file only fills in what neither gave: its values become extra arguments, appended only for
//! flags whose value came from neither (`ArgMatches::value_source`), and the line is parsed
//! again. The file is therefore checked by the same parsers as the flags, and a flag added to
//! any subcommand later is a config key and an environment variable with no extra code.
//!
//! Layout: top-level keys are the global flags (`redis`, `redis-ca`, `sentinel`, `log-format`,
//! ...); a `[serve]`, `[worker]`, ... table per subcommand holds that subcommand's flags;
//! `[[serve.users]]` entries (`name`, `password_hash` = an argon2 PHC string, `role`) add
//! console users. Keys may be written `kebab-case` or `snake_case`. An unknown key, or a
//! plaintext password, is an error naming it (exit 2).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

use crate::password::HashedUser;
use crate::process::UsageError;

/// What the file says that does not go through clap.
#[derive(Debug, Default)]
pub struct FileConfig {
    pub path: Option<PathBuf>,
    /// Top-level `redis = "URL"` or `redis = ["NAME=URL", ...]` (below every environment
    /// variable in precedence).
    pub redis: Vec<String>,
    /// `[[serve.users]]`.
    pub users: Vec<HashedUser>,
}

/// Flags that are never config keys.
const NOT_KEYS: [&str; 4] = ["help", "version", "config", "redis"];

/// Reads `path` and turns it into extra arguments (for flags `matches` has no value for).
pub fn load(
    path: &Path,
    cmd: &Command,
    matches: &ArgMatches,
) -> Result<(FileConfig, Vec<OsString>), UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read config file {}: {e}", path.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| UsageError(format!("config file {}: {e}", path.display())))?;
    let err = |msg: String| UsageError(format!("config file {}: {msg}", path.display()));
    let mut cfg = FileConfig {
        path: Some(path.to_path_buf()),
        ..FileConfig::default()
    };
    let mut extra = Vec::new();
    let sub = matches.subcommand();
    for (key, value) in &table {
        let k = key.replace('_', "-");
        if k == "redis" {
            // One URL, or a list of NAME=URL for several instances (`serve`).
            let bad = || err("redis: expected a URL or a list of NAME=URL strings".into());
            cfg.redis = match value {
                toml::Value::String(v) => vec![v.clone()],
                toml::Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
                    .collect::<Result<_, _>>()?,
                _ => return Err(bad()),
            };
            continue;
        }
        if let Some(section) = cmd.find_subcommand(&k) {
            let toml::Value::Table(t) = value else {
                return Err(err(format!("[{key}] must be a table")));
            };
            // Other subcommands' sections are checked for unknown keys too, so a typo in a
            // section never hides until the day that subcommand runs.
            let running = sub.filter(|(name, _)| *name == section.get_name());
            for (skey, svalue) in t {
                let sk = skey.replace('_', "-");
                if k == "serve" && sk == "users" {
                    let users = crate::password::parse_users(svalue)
                        .map_err(|e| err(format!("serve.users: {e}")))?;
                    if running.is_some() {
                        cfg.users = users;
                    }
                    continue;
                }
                if k == "serve" && sk == "user" {
                    return Err(err(
                        "serve.user: plaintext passwords are refused in the config file; use \
                         [[serve.users]] entries with password_hash = \"$argon2id$...\" \
                         (--user NAME:PASSWORD stays for quick starts on the command line)"
                            .into(),
                    ));
                }
                let Some(arg) = find_arg(section, &sk) else {
                    return Err(err(format!(
                        "unknown key {key}.{skey} (the flags of `taskmill {k} --help` are the keys)"
                    )));
                };
                if let Some((_, m)) = running {
                    push_arg(&mut extra, arg, m, svalue)
                        .map_err(|e| err(format!("{key}.{skey}: {e}")))?;
                }
            }
            continue;
        }
        let Some(arg) = find_arg(cmd, &k) else {
            return Err(err(format!(
                "unknown key {key} (top-level keys are the global flags, e.g. redis, \
                 redis-ca, sentinel, log-format; tables are subcommands, e.g. [serve], [worker])"
            )));
        };
        // A global flag typed after the subcommand is recorded in the subcommand's matches.
        let given = sub.is_some_and(|(_, m)| from_user(m, arg.get_id().as_str()));
        if !given {
            push_arg(&mut extra, arg, matches, value).map_err(|e| err(format!("{key}: {e}")))?;
        }
    }
    Ok((cfg, extra))
}

fn find_arg<'a>(cmd: &'a Command, key: &str) -> Option<&'a clap::Arg> {
    cmd.get_arguments().find(|a| {
        !NOT_KEYS.contains(&a.get_id().as_str())
            && a.get_long().is_some_and(|l| l == key)
            && !a.is_positional()
    })
}

/// The value came from the command line or the environment (so the file must not override it).
fn from_user(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.try_get_raw(id)
            .ok()
            .flatten()
            .and_then(|_| m.value_source(id)),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

fn push_arg(
    out: &mut Vec<OsString>,
    arg: &clap::Arg,
    m: &ArgMatches,
    value: &toml::Value,
) -> Result<(), String> {
    let id = arg.get_id().as_str();
    if from_user(m, id) {
        return Ok(());
    }
    let long = format!("--{}", arg.get_long().unwrap_or(id));
    let takes_value = arg.get_action().takes_values();
    match value {
        toml::Value::Boolean(b) if !takes_value => {
            if *b {
                out.push(long.into());
            }
        }
        toml::Value::Array(items) => {
            for v in items {
                out.push(format!("{long}={}", scalar(v)?).into());
            }
        }
        v => out.push(format!("{long}={}", scalar(v)?).into()),
    }
    Ok(())
}

fn scalar(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err("expected a string, number, boolean or an array of them".into()),
    }
}

/// `TASKMILL_<FLAG>` (upper case, `-` → `_`) for every flag that has no variable of its own,
/// on the root command and every subcommand.
pub fn with_env(cmd: Command) -> Command {
    let cmd = cmd.mut_args(|a| {
        let skip = a.get_env().is_some()
            || a.is_positional()
            || matches!(a.get_id().as_str(), "help" | "version" | "redis");
        match a.get_long() {
            Some(long) if !skip => {
                let name = format!("TASKMILL_{}", long.to_uppercase().replace('-', "_"));
                // clap keeps `&'static str` names; a few dozen, made once per process.
                let name: &'static str = Box::leak(name.into_boxed_str());
                a.env(name)
            }
            _ => a,
        }
    });
    cmd.mut_subcommands(with_env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn cmd() -> Command {
        with_env(crate::cli::Cli::command())
    }

    fn load_str(toml: &str, argv: &[&str]) -> Result<(FileConfig, Vec<OsString>), UsageError> {
        let dir = std::env::temp_dir().join(format!("taskmill-cfg-{}", rand::random::<u64>()));
        std::fs::write(&dir, toml).unwrap();
        let cmd = cmd();
        let m = cmd
            .clone()
            .ignore_errors(true)
            .try_get_matches_from(argv)
            .unwrap();
        let r = load(&dir, &cmd, &m);
        let _ = std::fs::remove_file(&dir);
        r
    }

    #[test]
    fn every_flag_has_an_environment_variable() {
        let cmd = cmd();
        let serve = cmd.find_subcommand("serve").unwrap();
        let env = |c: &Command, id: &str| {
            c.get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_env())
                .map(|e| e.to_string_lossy().into_owned())
        };
        assert_eq!(
            env(serve, "read_only").as_deref(),
            Some("TASKMILL_READ_ONLY")
        );
        assert_eq!(env(serve, "users").as_deref(), Some("TASKMILL_USERS"));
        assert_eq!(env(&cmd, "redis_ca").as_deref(), Some("TASKMILL_REDIS_CA"));
        for sub in cmd.get_subcommands() {
            for a in sub.get_arguments().filter(|a| a.get_long().is_some()) {
                let id = a.get_id().as_str();
                assert!(
                    a.get_env().is_some() || matches!(id, "help" | "version" | "redis"),
                    "{} --{id}: no environment variable",
                    sub.get_name()
                );
            }
        }
    }

    #[test]
    fn file_fills_only_what_the_command_line_left() {
        let (cfg, extra) = load_str(
            "redis = \"redis://h:1\"\nlog-format = \"json\"\n[worker]\nqueues = [\"a\", \"b\"]\nburst = true\nconcurrency = 3\n[serve]\nread_only = true\n",
            &["taskmill", "worker", "--concurrency", "7"],
        )
        .unwrap();
        assert_eq!(cfg.redis, ["redis://h:1"]);
        let extra: Vec<_> = extra
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            extra,
            ["--log-format=json", "--burst", "--queues=a", "--queues=b"],
            "--concurrency was typed: the file's 3 is not added; [serve] is not this run's"
        );
    }

    #[test]
    fn proxy_flags_are_keys_and_variables() {
        let cmd = cmd();
        let serve = cmd.find_subcommand("serve").unwrap();
        let env = |id: &str| {
            let a = serve.get_arguments().find(|a| a.get_id() == id).unwrap();
            a.get_env().unwrap().to_string_lossy().into_owned()
        };
        assert_eq!(env("url_prefix"), "TASKMILL_URL_PREFIX");
        assert_eq!(env("trusted_origins"), "TASKMILL_TRUSTED_ORIGINS");
        assert_eq!(env("trust_proxy"), "TASKMILL_TRUST_PROXY");
        let (_, extra) = load_str(
            "[serve]\nurl-prefix = \"taskmill/\"\ntrusted_origin = [\"https://a.example\"]\ntrust-proxy = true\n",
            &["taskmill", "serve"],
        )
        .unwrap();
        let mut extra: Vec<_> = extra
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        extra.sort();
        assert_eq!(
            extra,
            [
                "--trust-proxy",
                "--trusted-origin=https://a.example",
                "--url-prefix=taskmill/"
            ]
        );
        let argv = ["taskmill", "serve"].map(String::from).into_iter();
        let m = cmd.try_get_matches_from(argv.chain(extra)).unwrap();
        let (_, sub) = m.subcommand().unwrap();
        let base = sub.get_one::<app::url::Base>("url_prefix").unwrap();
        assert_eq!(base.as_str(), "/taskmill");
    }

    #[test]
    fn unknown_keys_and_plaintext_passwords_are_refused() {
        let argv = ["taskmill", "info"];
        for (toml, needle) in [
            ("colour = 1", "unknown key colour"),
            ("[worker]\nqueue = \"a\"", "unknown key worker.queue"),
            (
                "[serve]\nuser = [\"a:b\"]",
                "plaintext passwords are refused",
            ),
            (
                "[[serve.users]]\nname = \"a\"\npassword = \"pw\"",
                "plaintext passwords are refused",
            ),
            ("[nosuch]\nx = 1", "unknown key nosuch"),
            ("redis = [", "config file"),
        ] {
            let e = load_str(toml, &argv).unwrap_err().to_string();
            assert!(e.contains(needle), "{toml:?}: {e}");
        }
    }
}
