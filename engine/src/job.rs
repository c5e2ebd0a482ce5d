//! The job hash `rq:job:<id>`: tolerant parsing into `JobSummary` / `JobDetail`.

use crate::model::JobDetail;
use crate::{Result, Store};

/// Full detail of one job, or `None` if `rq:job:<id>` does not exist. A corrupt hash still
/// returns `Some` with `Undecodable` markers.
pub async fn fetch(_store: &Store, _id: &str) -> Result<Option<JobDetail>> {
    todo!("H1")
}
