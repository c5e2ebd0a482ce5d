//! "Enqueue now" for scheduled or deferred jobs, and requeue of canceled jobs: ZREM from the
//! registry, status `queued`, new `enqueued_at`, push to the origin queue. Other states are
//! skipped as `wrong_state` (failed jobs go through `requeue`).

use super::JobsOutcome;
use crate::scripts::ENQUEUE_NOW;
use crate::{keys, time, Result, Store};

pub async fn enqueue_now(store: &Store, ids: &[String]) -> Result<JobsOutcome> {
    let now = time::format_rq(time::now());
    super::run_per_id(store, &ENQUEUE_NOW, &[keys::QUEUES], &[now.as_bytes()], ids).await
}
