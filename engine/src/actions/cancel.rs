//! Cancel queued / deferred / scheduled jobs (RQ `job.cancel()` semantics: status `canceled`,
//! removed from the queue list and its registry, added to `rq:canceled:<q>`). Started, finished,
//! failed and already canceled jobs are skipped as `wrong_state`: cancelling a running job would
//! only relabel it (RQ does not stop the horse), `stop` is the action for that.

use super::JobsOutcome;
use crate::scripts::CANCEL;
use crate::{time, Result, Store};

pub async fn cancel(store: &Store, ids: &[String]) -> Result<JobsOutcome> {
    let now = (time::now().floor() as i64).to_string();
    super::run_per_id(store, &CANCEL, &[], &[now.as_bytes()], ids).await
}
