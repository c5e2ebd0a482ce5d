//! Cancel queued / deferred / scheduled jobs (RQ `job.cancel()` semantics: status `canceled`,
//! removed from the queue list and its registry, added to `rq:canceled:<q>`).

use super::Outcome;
use crate::{Result, Store};

pub async fn cancel(_store: &Store, _ids: &[String]) -> Result<Outcome> {
    todo!("H2")
}
