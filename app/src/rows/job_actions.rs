//! The job page's action buttons (`LiveJobActions`): the actions valid for the job's status,
//! re-rendered when the page's live strip re-reads the job's head (`rows::job::shared`), so a
//! job that moves from queued to started swaps Cancel for Stop without a reload. Without
//! JavaScript they are the server-rendered buttons; the server refuses what no longer applies.

use engine::model::JobStatus;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::job::{shared, JobHead};
use crate::actions::{CancelJobs, DeleteJobs, EnqueueNowJobs, RequeueJobs, StopJob};
use crate::components::forms::PostButton;
use crate::format;

/// One button: (server function path, label, test id slug, danger, return to the job page).
type Button = (&'static str, &'static str, &'static str, bool, bool);

/// The actions valid for a job in `status` (`None`: the job is gone, nothing to do).
pub fn valid(status: Option<&JobStatus>) -> Vec<Button> {
    let Some(status) = status else {
        return Vec::new();
    };
    let mut out: Vec<Button> = match status {
        JobStatus::Failed | JobStatus::Stopped => {
            vec![(RequeueJobs::PATH, "Requeue", "requeue", false, true)]
        }
        JobStatus::Started => vec![(StopJob::PATH, "Stop", "stop", true, true)],
        JobStatus::Queued => vec![(CancelJobs::PATH, "Cancel", "cancel", true, true)],
        JobStatus::Deferred | JobStatus::Scheduled => vec![
            (
                EnqueueNowJobs::PATH,
                "Enqueue now",
                "enqueue-now",
                false,
                true,
            ),
            (CancelJobs::PATH, "Cancel", "cancel", true, true),
        ],
        JobStatus::Canceled => vec![(
            EnqueueNowJobs::PATH,
            "Enqueue again",
            "enqueue-now",
            false,
            true,
        )],
        _ => Vec::new(),
    };
    // After a delete the job page would be a 404: go back to the job's queue.
    if *status != JobStatus::Started {
        out.push((DeleteJobs::PATH, "Delete", "delete", true, false));
    }
    out
}

/// The job's action buttons, following its status once hydrated.
#[island]
pub fn LiveJobActions(id: String, initial: JobHead, origin: String) -> impl IntoView {
    let head = shared();
    let here = format::job_href(&id);
    let back = if origin.is_empty() {
        "/".to_string()
    } else {
        format::queue_href(&origin)
    };
    view! {
        <div class="job-actions" data-testid="job-actions">
            {move || {
                let h = head.get().unwrap_or_else(|| initial.clone());
                let status = h.status.as_deref().map(JobStatus::parse);
                valid(status.as_ref()).into_iter().map(|(url, label, slug, danger, stay)| {
                    let field = if url == StopJob::PATH { "id" } else { "ids[]" };
                    let to = if stay { here.clone() } else { back.clone() };
                    view! {
                        <PostButton url=url label=label.to_string() fields=vec![(field, id.clone())]
                            return_to=to testid=format!("{slug}-{id}") danger=danger/>
                    }
                }).collect_view()
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slugs(s: Option<JobStatus>) -> Vec<&'static str> {
        valid(s.as_ref()).into_iter().map(|b| b.2).collect()
    }

    #[test]
    fn actions_follow_the_status() {
        assert_eq!(slugs(Some(JobStatus::Queued)), ["cancel", "delete"]);
        assert_eq!(slugs(Some(JobStatus::Started)), ["stop"]);
        assert_eq!(slugs(Some(JobStatus::Failed)), ["requeue", "delete"]);
        assert_eq!(slugs(Some(JobStatus::Canceled)), ["enqueue-now", "delete"]);
        assert_eq!(
            slugs(Some(JobStatus::Scheduled)),
            ["enqueue-now", "cancel", "delete"]
        );
        assert_eq!(slugs(Some(JobStatus::parse("?"))), ["delete"]);
        assert!(slugs(None).is_empty(), "a deleted job offers nothing");
        // Only the delete leaves the job page (it would be a 404).
        assert!(valid(Some(&JobStatus::Queued))
            .iter()
            .all(|b| b.4 == (b.2 != "delete")));
    }
}
