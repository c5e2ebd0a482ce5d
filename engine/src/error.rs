//! Engine errors and their kinds. Expected outcomes ("job not in failed registry", "queue empty")
//! are values in each action's outcome, not errors; a refusal the operator must see ("no such
//! queue", "the count changed since you confirmed") is an error of kind `NotFound` / `Conflict`.
//!
//! [`Error::kind`] is the one classification every way in (pages, `/ui` actions, the JSON API,
//! the CLI) maps to its own status, each in exactly one place.

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
    #[error("{0}")]
    NotFound(String),
    /// The state changed under the operator (a confirmed count no longer holds).
    #[error("{0}")]
    Conflict(String),
    #[error("job {0} already exists")]
    DuplicateJob(String),
    #[error("handler config: {0}")]
    Config(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A remote-control command nobody answered before its deadline (Celery's pidbox).
    #[error("{0}")]
    NoReply(String),
}

/// What kind of failure an [`Error`] is, for the caller's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's input is wrong (4xx).
    Invalid,
    NotFound,
    /// Refused because of current state (duplicate id, changed count).
    Conflict,
    /// Redis could not be reached (refused, dropped, timed out): retry later.
    Unavailable,
    /// Redis answered something unusable, or a local failure: a bug or corrupt data.
    Internal,
    /// A command was sent but no worker answered before the deadline.
    NoReply,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
            ErrorKind::NoReply => "no_reply",
        }
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidJobId(_) | Error::InvalidQueueName(_) | Error::Invalid(_) => {
                ErrorKind::Invalid
            }
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::NoReply(_) => ErrorKind::NoReply,
            Error::Conflict(_) | Error::DuplicateJob(_) => ErrorKind::Conflict,
            Error::Redis(r)
                if r.is_io_error()
                    || r.is_timeout()
                    || r.is_connection_refusal()
                    || r.is_connection_dropped() =>
            {
                ErrorKind::Unavailable
            }
            _ => ErrorKind::Internal,
        }
    }

    /// Shorthand for `kind() == Unavailable`.
    pub fn is_unavailable(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
