//! Engine errors. Expected outcomes ("job not in failed registry", "queue empty") are values in
//! each action's outcome type, not errors.

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("invalid job id {0:?}: ids are 1-128 characters of [A-Za-z0-9_-]")]
    InvalidJobId(String),
    #[error("invalid queue name {0:?}")]
    InvalidQueueName(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("job {0} already exists")]
    DuplicateJob(String),
    #[error("handler config: {0}")]
    Config(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// RQ 2.8+ accepts `[A-Za-z0-9_-]+`; we also bound the length so a key can't be megabytes.
pub fn validate_job_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidJobId(id.chars().take(200).collect()))
    }
}

/// Queue names are free text in RQ; we refuse empty, huge, or control-character names.
pub fn validate_queue_name(name: &str) -> Result<()> {
    let ok = !name.is_empty() && name.len() <= 200 && !name.chars().any(|c| c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidQueueName(name.chars().take(200).collect()))
    }
}
