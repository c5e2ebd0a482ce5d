//! The job page's live parts: its status badge (`LiveJobStatus`) and the facts that change while
//! a job runs (`LiveJobFacts`: status, worker, started, ended, retries left, last heartbeat).
//! Both show the server-rendered `JobHead` until the page's live strip (`watch::LiveWatch`)
//! sees the job's queue move and re-reads the job's head once (`GET /ui/job_head?id=`); the
//! strip then publishes it to every island of the page through one shared signal.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::format;

/// The fields of a job that change while it runs. `status: None` once the job is gone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobHead {
    pub status: Option<String>,
    pub worker_name: Option<String>,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    pub retries_left: Option<i64>,
    pub last_heartbeat: Option<f64>,
    /// Server time of the read: the "… ago" texts count from it.
    pub now: f64,
}

impl JobHead {
    #[cfg(feature = "ssr")]
    pub fn of(job: &engine::model::JobDetail, now: f64) -> JobHead {
        let s = &job.summary;
        JobHead {
            status: Some(
                s.status
                    .as_ref()
                    .map_or_else(|| "?".to_string(), |st| st.as_str().to_string()),
            ),
            worker_name: s.worker_name.clone(),
            started_at: s.started_at,
            ended_at: s.ended_at,
            retries_left: job.retries_left,
            last_heartbeat: job.last_heartbeat,
            now,
        }
    }

    /// The status as shown ("deleted" once the job is gone).
    pub fn status_text(&self) -> String {
        self.status.clone().unwrap_or_else(|| "deleted".into())
    }
}

/// A job's head now (`None`: the job is gone); the strip asks when the job's queue moved.
#[server(prefix = "/ui", endpoint = "job_head", input = leptos::server_fn::codec::GetUrl)]
pub async fn read_job_head(id: String) -> Result<Option<JobHead>, ServerFnError> {
    let console = use_context::<std::sync::Arc<crate::state::Console>>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: no Console in context"))?;
    if let Err(e) = engine::limits::validate_job_id(&id) {
        crate::error::set_status(axum::http::StatusCode::BAD_REQUEST);
        return Err(ServerFnError::new(e.to_string()));
    }
    let job = console
        .backend
        .job(&id)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(job.map(|j| JobHead::of(&j, engine::time::now())))
}

/// The page's newest re-read head (`None` until the first one).
#[cfg(feature = "hydrate")]
pub fn shared() -> ArcRwSignal<Option<JobHead>> {
    thread_local! {
        static HEAD: ArcRwSignal<Option<JobHead>> = ArcRwSignal::new(None);
    }
    HEAD.with(Clone::clone)
}

#[cfg(not(feature = "hydrate"))]
pub fn shared() -> ArcRwSignal<Option<JobHead>> {
    ArcRwSignal::new(None)
}

/// Re-reads job `id`'s head and publishes it to the page's islands.
pub fn refresh(id: String) {
    leptos::task::spawn_local(async move {
        if let Ok(head) = read_job_head(id).await {
            shared().set(Some(head.unwrap_or_default()));
        }
    });
}

/// The shown head: the newest re-read one, else the server-rendered one.
fn current(initial: JobHead) -> impl Fn() -> JobHead + Clone + Send + Sync + 'static {
    let head = shared();
    move || head.get().unwrap_or_else(|| initial.clone())
}

#[island]
pub fn LiveJobStatus(initial: JobHead) -> impl IntoView {
    let head = current(initial);
    let h = head.clone();
    view! {
        <span
            class=move || format!("status status-{}", format::dom_id(&head().status_text()))
            data-testid="job-status"
        >
            {move || h().status_text()}
        </span>
    }
}

#[island]
pub fn LiveJobFacts(initial: JobHead) -> impl IntoView {
    let head = current(initial);
    let ts =
        |t: Option<f64>, now: f64| format!("{} ({})", format::timestamp(t), format::ago(t, now));
    let opt_i = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "—".into());
    view! {
        <dl class="facts" data-testid="job-live-facts">
            {move || {
                let h = head();
                let worker = h.worker_name.clone();
                view! {
                    <dt>"Status"</dt><dd data-testid="fact-status">{h.status_text()}</dd>
                    <dt>"Worker"</dt>
                    <dd>{worker.map(|w| view! { <a href=crate::url::href(&format::worker_href(&w))>{w.clone()}</a> })}</dd>
                    <dt>"Started"</dt><dd data-testid="fact-started">{ts(h.started_at, h.now)}</dd>
                    <dt>"Ended"</dt><dd data-testid="fact-ended">{ts(h.ended_at, h.now)}</dd>
                    <dt>"Retries left"</dt><dd data-testid="retries-left">{opt_i(h.retries_left)}</dd>
                    <dt>"Last heartbeat"</dt><dd>{ts(h.last_heartbeat, h.now)}</dd>
                }
            }}
        </dl>
    }
}
