//! "Enqueue now" for scheduled or deferred jobs, and requeue of canceled jobs: ZREM from the
//! registry, status `queued`, new `enqueued_at`, push to the origin queue.

use super::Outcome;
use crate::{Result, Store};

pub async fn enqueue_now(_store: &Store, _ids: &[String]) -> Result<Outcome> {
    todo!("H2")
}
