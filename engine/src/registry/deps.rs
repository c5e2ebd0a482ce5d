//! What deferred jobs wait on: for each row of a page, up to `MAX_DEPS_PER_JOB` of its
//! dependency ids (`rq:job::<id>:dependencies`, `SRANDMEMBER` with a positive count: distinct,
//! and all of them when the set is that small) and each dependency's current status. Two
//! pipelined round trips per page whatever its size, bounded by `MAX_PAGE * MAX_DEPS_PER_JOB`.

use std::collections::HashMap;

use redis::Value;

use crate::keys;
use crate::model::{DeferredJob, Dependency, JobStatus, JobSummary, Page};
use crate::reply;
use crate::{Result, Store};

/// Most dependencies shown per deferred job (the total is reported next to them).
pub const MAX_DEPS_PER_JOB: usize = 10;

/// `page` with each job's dependencies and their statuses.
pub async fn deferred_with_deps(
    store: &Store,
    page: Page<JobSummary>,
) -> Result<Page<DeferredJob>> {
    let Page {
        items,
        total,
        offset,
        limit,
    } = page;
    if items.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            total,
            offset,
            limit,
        });
    }
    let mut p = redis::pipe();
    p.ignore_errors();
    for j in &items {
        let k = keys::dependencies(&j.id);
        p.cmd("SCARD").arg(&k);
        p.cmd("SRANDMEMBER").arg(&k).arg(MAX_DEPS_PER_JOB);
    }
    let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
    let mut per_job: Vec<(u64, Vec<String>)> = replies
        .chunks(2)
        .map(|c| {
            let mut ids = c.get(1).map(reply::strings).unwrap_or_default();
            ids.sort();
            (c.first().map_or(0, reply::count), ids)
        })
        .collect();
    let mut unique: Vec<&String> = per_job.iter().flat_map(|(_, ids)| ids).collect();
    unique.sort();
    unique.dedup();
    let statuses: HashMap<String, Option<JobStatus>> = if unique.is_empty() {
        HashMap::new()
    } else {
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in &unique {
            p.cmd("HGET").arg(keys::job(id)).arg("status");
        }
        let replies: Vec<Value> = p.query_async(&mut store.conn()).await?;
        unique
            .iter()
            .zip(replies.iter())
            .map(|(id, v)| {
                let status = reply::string(v).map(|s| JobStatus::parse(&s));
                ((*id).clone(), status)
            })
            .collect()
    };
    per_job.resize(items.len(), (0, Vec::new()));
    let items = items
        .into_iter()
        .zip(per_job)
        .map(|(job, (n, ids))| DeferredJob {
            job,
            depends_on_total: n,
            depends_on: ids
                .into_iter()
                .map(|id| Dependency {
                    status: statuses.get(&id).cloned().flatten(),
                    id,
                })
                .collect(),
        })
        .collect();
    Ok(Page {
        items,
        total,
        offset,
        limit,
    })
}
