//! `run-cron`: enqueue a cron job's job now, outside its schedule. The definition comes from the
//! scheduler hashes in `rq:cron_scheduler:*` (Taskmill's or Python `rq cron`'s); the job is
//! created with the JSON serializer and recorded in the job's history and `rq:cron_jobs` in the
//! same script as a scheduled tick (`lua/cron_enqueue.lua`), without moving the tick lock.

use crate::cron::state::{self, TickOutcome};
use crate::{Error, Result, Store};

/// Returns the new job's id; an unknown name is not found.
pub async fn run_cron(store: &Store, name: &str) -> Result<String> {
    crate::limits::validate_cron_name(name)?;
    let now = crate::time::now();
    let Some(def) = state::find_job(store, name, now).await? else {
        return Err(Error::NotFound(format!(
            "no cron job named {name:?} in any registered scheduler"
        )));
    };
    match state::enqueue(store, &def, None, now).await? {
        TickOutcome::Enqueued(id) => Ok(id),
        // Without a tick the script never answers "taken".
        TickOutcome::Taken => Err(Error::Conflict(
            "cron enqueue without a tick was refused".into(),
        )),
    }
}
