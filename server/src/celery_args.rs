//! `taskmill serve`'s Celery flags and what they start: the broker / result backend handle and
//! its event subscription, beside RQ in the same console.

use std::sync::Arc;

use clap::Args;
use engine::celery::{Celery, Transport};

#[derive(Args, Debug, Clone, Default)]
pub struct CeleryArgs {
    /// Celery broker (kombu Redis transport) to show beside RQ, e.g. redis://host:6379/0
    #[arg(long, env = "CELERY_BROKER_URL", value_name = "URL")]
    pub celery_broker: Option<String>,
    /// Celery result backend (Redis); defaults to the broker
    #[arg(
        long,
        env = "CELERY_RESULT_BACKEND",
        value_name = "URL",
        requires = "celery_broker"
    )]
    pub celery_backend: Option<String>,
    /// kombu transport option `global_keyprefix`
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub celery_global_keyprefix: String,
    /// kombu transport option `priority_steps`, comma-separated
    #[arg(long, value_name = "STEPS", default_value = "0,3,6,9")]
    pub celery_priority_steps: String,
    /// kombu transport option `sep` (default: the bytes 0x06 0x16); escapes \xHH accepted
    #[arg(long, value_name = "SEP", value_parser = parse_sep)]
    pub celery_sep: Option<String>,
    /// Deadline of pidbox (inspect / control) requests, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(50..=60_000))]
    pub celery_timeout_ms: u64,
}

fn parse_sep(s: &str) -> Result<String, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 2..i + 4]).map_err(|e| e.to_string())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad escape \\x{hex}"))?);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let sep = String::from_utf8(out).map_err(|_| "sep must be UTF-8".to_string())?;
    if sep.is_empty() {
        return Err("sep must not be empty".into());
    }
    Ok(sep)
}

impl CeleryArgs {
    /// The Celery handle, `None` without `--celery-broker`.
    pub fn connect(&self) -> anyhow::Result<Option<Arc<Celery>>> {
        let Some(broker) = &self.celery_broker else {
            return Ok(None);
        };
        let steps = Transport::parse_steps(&self.celery_priority_steps)
            .map_err(|e| crate::process::UsageError(format!("bad --celery-priority-steps: {e}")))?;
        let transport = Transport {
            global_keyprefix: self.celery_global_keyprefix.clone(),
            priority_steps: steps,
            sep: self
                .celery_sep
                .clone()
                .unwrap_or_else(|| engine::keys::celery::SEP.to_string()),
        };
        let mut c =
            Celery::connect(broker, self.celery_backend.as_deref(), transport).map_err(|e| {
                crate::process::UsageError(format!("bad --celery-broker/--celery-backend URL: {e}"))
            })?;
        c.timeout = std::time::Duration::from_millis(self.celery_timeout_ms);
        Ok(Some(Arc::new(c)))
    }
}

/// Starts the event subscription (it reconnects by itself; aborted with the returned handle).
pub fn spawn(c: &Arc<Celery>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(engine::celery::events::run(c.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sep_escapes() {
        assert_eq!(parse_sep("\\x06\\x16").unwrap(), "\x06\x16");
        assert_eq!(parse_sep(":").unwrap(), ":");
        assert!(parse_sep("").is_err());
        assert_eq!(Transport::parse_steps("0,5").unwrap(), vec![0, 5]);
        assert_eq!(Transport::parse_steps("9,3").unwrap(), vec![0, 3, 9]);
        assert!(Transport::parse_steps("0,x").is_err());
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        celery: CeleryArgs,
    }

    #[tokio::test]
    async fn flags_parse() {
        use clap::Parser;
        let none = Cli::try_parse_from(["t"]).unwrap().celery;
        assert!(none.connect().unwrap().is_none());
        let cli = Cli::try_parse_from([
            "t",
            "--celery-broker",
            "redis://127.0.0.1:1/3",
            "--celery-priority-steps",
            "0,5",
            "--celery-global-keyprefix",
            "pre:",
            "--celery-sep",
            ":",
            "--celery-timeout-ms",
            "200",
        ])
        .unwrap();
        let c = cli.celery.connect().unwrap().unwrap();
        assert_eq!(c.transport.priority_steps, vec![0, 5]);
        assert_eq!(
            (c.prefix(), c.transport.sep.as_str(), c.db),
            ("pre:", ":", 3)
        );
        assert_eq!(c.timeout, std::time::Duration::from_millis(200));
        assert!(Cli::try_parse_from(["t", "--celery-backend", "redis://x"]).is_err());
    }
}
