//! RQ's pub/sub worker commands on `rq:pubsub:<worker>` (JSON text), plus Taskmill's `scale`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Command {
    Shutdown,
    KillHorse,
    StopJob {
        job_id: String,
    },
    /// Taskmill only: change the slot count of the pool that owns this worker.
    Scale {
        slots: u64,
    },
}

impl Command {
    /// Parses a payload; unknown commands are `None` (RQ ignores them too).
    pub fn parse(payload: &[u8]) -> Option<Command> {
        serde_json::from_slice(payload).ok()
    }

    /// The JSON text, spaced like Python's `json.dumps`.
    pub fn to_payload(&self) -> String {
        match self {
            Command::Shutdown => r#"{"command": "shutdown"}"#.to_string(),
            Command::KillHorse => r#"{"command": "kill-horse"}"#.to_string(),
            Command::StopJob { job_id } => format!(
                r#"{{"command": "stop-job", "job_id": {}}}"#,
                serde_json::Value::String(job_id.clone())
            ),
            Command::Scale { slots } => format!(r#"{{"command": "scale", "slots": {slots}}}"#),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rq_payloads() {
        assert_eq!(
            Command::parse(br#"{"command": "shutdown"}"#),
            Some(Command::Shutdown)
        );
        assert_eq!(
            Command::parse(br#"{"command": "kill-horse"}"#),
            Some(Command::KillHorse)
        );
        assert_eq!(
            Command::parse(br#"{"command": "stop-job", "job_id": "abc"}"#),
            Some(Command::StopJob {
                job_id: "abc".into()
            })
        );
        assert_eq!(Command::parse(br#"{"command": "dance"}"#), None);
        assert_eq!(Command::parse(b"not json"), None);
        for c in [
            Command::Shutdown,
            Command::KillHorse,
            Command::Scale { slots: 3 },
        ] {
            assert_eq!(Command::parse(c.to_payload().as_bytes()), Some(c));
        }
    }
}
