//! Failure groups: failed jobs with the same fingerprint (exception type, normalised message,
//! innermost user frame), so "3,000 failures" reads as "these four errors".
//! - `fingerprint` — pure: traceback text → type, message, frame, fingerprint.
//! - `index`       — the incremental index in `taskmill:fg:*`: passes in bounded slices that
//!   decode only unseen failures and follow changes made by anyone; `as_of`.
//! - `read`        — groups (largest first), a group's page of jobs, a group's live members.
//!
//! The group actions (`requeue-group`, `delete-group`) live with the others in `actions/`.

pub mod fingerprint;
#[cfg(feature = "runtime")]
pub mod index;
#[cfg(feature = "runtime")]
pub mod read;

pub use fingerprint::UNDECODABLE;
