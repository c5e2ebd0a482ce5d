//! `/jobs/:id`: everything known about one job, and the actions valid for its state. All job
//! data is rendered as text (escaped); payloads that can't be decoded show a marker and a safe
//! preview of the raw bytes. The status badge and the facts that change while a job runs are
//! islands (`rows::job`) that update when the live strip re-reads the job.

use engine::model::{Call, Decoded, JobDetail, JobResult};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::status::{async_page, console, PageError};
use crate::components::timeline::Timeline;
use crate::format;
use crate::rows::job::{JobHead, LiveJobFacts, LiveJobStatus};
use crate::rows::job_actions::LiveJobActions;
use crate::watch::{LiveWatch, Watch};

#[component]
pub fn JobPage() -> impl IntoView {
    let console = console();
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    async_page(async move {
        engine::limits::validate_job_id(&id)?;
        let Some(job) = console.backend.job(&id).await? else {
            return Err(PageError::not_found(
                "No such job",
                format!("Job {id} does not exist (it may have expired or been deleted)."),
            ));
        };
        let now = engine::time::now();
        let read_only = console.read_only;
        // The live strip needs the shared snapshot; without it (Redis just went away) the page
        // still renders, only without the strip.
        let strip = match (console.snapshot().await, job.summary.origin.clone()) {
            (Ok(snap), Some(queue)) => {
                let watch = Watch::Job {
                    id: id.clone(),
                    queue,
                    status: job
                        .summary
                        .status
                        .as_ref()
                        .map_or_else(|| "?".to_string(), |s| s.as_str().to_string()),
                };
                let initial = watch.counts(&snap);
                let here = format!("/jobs/{}", format::url_part(&id));
                Some(view! { <LiveWatch watch=watch initial=initial here=here rows_live=true/> })
            }
            _ => None,
        };
        Ok(view! {
            <Title text=format!("Job {id}")/>
            {strip}
            <JobView job=job now=now read_only=read_only/>
        }
        .into_any())
    })
}

#[component]
fn JobView(job: JobDetail, now: f64, read_only: bool) -> impl IntoView {
    let s = job.summary.clone();
    let origin = s.origin.clone().unwrap_or_default();
    let title = match &job.call {
        Ok(call) => call.func_name.clone(),
        Err(_) => s
            .func_name
            .clone()
            .unwrap_or_else(|| "(undecodable call)".into()),
    };
    view! {
        <h1 class="job-title">
            <code data-testid="job-func">{title}</code>
            " "
            <LiveJobStatus initial=JobHead::of(&job, now)/>
        </h1>
        <p class="job-id">"Job " <code data-testid="job-id">{s.id.clone()}</code></p>
        {s.problem.clone().map(|p| view! {
            <div class="banner warn" data-testid="undecodable">"Undecodable job data: " {p}</div>
        })}
        {(!read_only).then(|| view! { <LiveJobActions id=s.id.clone() initial=JobHead::of(&job, now) origin=origin.clone()/> })}
        <div class="cols">
            <section>
                <h2>"Summary"</h2>
                <LiveJobFacts initial=JobHead::of(&job, now)/>
                <Facts job=job.clone() now=now/>
            </section>
            <section>
                <h2>"Call"</h2>
                <CallView call=job.call.clone()/>
                {s.description.clone().map(|d| view! {
                    <h3>"Description"</h3>
                    <pre class="value" data-testid="job-description">{d}</pre>
                })}
                {job.meta.clone().map(|m| view! { <h3>"Meta"</h3> {decoded(&m, "job-meta")} })}
            </section>
        </div>
        <Timeline events=job.timeline.clone() now=now/>
        <Links title="Depends on" ids=job.dependency_ids.clone() testid="dependencies"/>
        <Links title="Dependents" ids=job.dependents.clone() testid="dependents"/>
        <h2>"Results"</h2>
        {job.results.is_empty().then(|| view! { <p class="empty">"No results recorded."</p> })}
        {job.results.iter().cloned().map(|r| view! { <ResultView r=r/> }).collect_view()}
        {job.legacy_exc_info.clone().map(|exc| view! {
            <h3>"exc_info (legacy field)"</h3>
            <pre class="traceback" data-testid="legacy-exc-info">{exc}</pre>
        })}
        {job.legacy_result.clone().map(|r| view! { <h3>"result (legacy field)"</h3> {decoded(&r, "legacy-result")} })}
        <details class="raw">
            <summary>"Raw hash fields"</summary>
            <table class="grid" data-testid="raw-fields">
                <tbody>
                    {job.raw_fields.iter().cloned().map(|(k, v)| view! {
                        <tr><th>{k}</th><td><pre class="value">{v}</pre></td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

#[component]
fn Facts(job: JobDetail, now: f64) -> impl IntoView {
    let s = &job.summary;
    let opt_i = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "—".into());
    let ts = |t: Option<f64>| format!("{} ({})", format::timestamp(t), format::ago(t, now));
    let origin = s.origin.clone();
    let intervals = job
        .retry_intervals
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <dl class="facts" data-testid="job-facts">
            <dt>"Queue"</dt>
            <dd>{origin.map(|q| view! { <a href=crate::url::href(&format::queue_href(&q))>{q.clone()}</a> })}</dd>
            <dt>"Created"</dt><dd>{ts(s.created_at)}</dd>
            <dt>"Enqueued"</dt><dd>{ts(s.enqueued_at)}</dd>
            <dt>"Timeout"</dt><dd>{opt_i(job.timeout)}</dd>
            <dt>"Result TTL"</dt><dd>{opt_i(job.result_ttl)}</dd>
            <dt>"Failure TTL"</dt><dd>{opt_i(job.failure_ttl)}</dd>
            <dt>"TTL"</dt><dd>{opt_i(job.ttl)}</dd>
            <dt>"Key expires in"</dt>
            <dd>{if job.key_ttl < 0 { "never".to_string() } else { format::age(job.key_ttl as f64) }}</dd>
            <dt>"Retry intervals"</dt><dd>{if intervals.is_empty() { "—".to_string() } else { intervals }}</dd>
            <dt>"Repeats left"</dt><dd>{opt_i(job.repeats_left)}</dd>
            <dt>"Group"</dt><dd>{job.group_id.clone().unwrap_or_else(|| "—".into())}</dd>
        </dl>
    }
}

#[component]
fn CallView(call: Result<Call, Decoded>) -> impl IntoView {
    match call {
        Ok(call) => {
            let codec = format!("{:?}", call.codec).to_lowercase();
            view! {
                <p class="hint">
                    "Serializer: " {codec}
                    {call.lossy.then(|| view! {
                        " " <span class="tag lossy" title="Some values are shown symbolically">"lossy"</span>
                    })}
                </p>
                <h3>"Args"</h3>
                {call.args.is_empty().then(|| view! { <p class="empty">"none"</p> })}
                <ol class="args" data-testid="job-args">
                    {call.args.iter().map(|a| view! { <li><pre class="value">{a.pretty()}</pre></li> }).collect_view()}
                </ol>
                <h3>"Kwargs"</h3>
                {call.kwargs.is_empty().then(|| view! { <p class="empty">"none"</p> })}
                <dl class="kwargs" data-testid="job-kwargs">
                    {call.kwargs.iter().map(|(k, v)| view! {
                        <dt><code>{k.clone()}</code></dt><dd><pre class="value">{v.pretty()}</pre></dd>
                    }).collect_view()}
                </dl>
            }
            .into_any()
        }
        Err(d) => decoded(&d, "job-call"),
    }
}

/// A decoded payload, or the undecodable marker with a safe preview of the raw bytes.
fn decoded(d: &Decoded, testid: &'static str) -> AnyView {
    match d.clone() {
        Decoded::Ok { value, lossy, .. } => view! {
            <pre class="value" data-testid=testid>{value.pretty()}</pre>
            {lossy.then(|| view! { <span class="tag lossy">"lossy"</span> })}
        }
        .into_any(),
        Decoded::Undecodable { reason, raw, len } => view! {
            <div class="undecodable" data-testid=testid>
                <span class="tag undecodable" data-testid="undecodable">"undecodable"</span>
                " " {reason} {format!(" ({len} bytes)")}
                <pre class="value raw">{raw}</pre>
            </div>
        }
        .into_any(),
    }
}

#[component]
fn ResultView(r: JobResult) -> impl IntoView {
    let kind = format!("{:?}", r.kind);
    view! {
        <article class="result" data-testid="job-result">
            <header>
                <span class=format!("tag result-{}", kind.to_lowercase())>{kind.clone()}</span>
                " " {format::timestamp(r.created_at)}
                {r.worker_name.clone().map(|w| view! { " on " <a href=crate::url::href(&format::worker_href(&w))>{w.clone()}</a> })}
            </header>
            {r.return_value.as_ref().map(|v| decoded(v, "result-value"))}
            {r.exc_string.clone().map(|exc| view! { <pre class="traceback" data-testid="traceback">{exc}</pre> })}
        </article>
    }
}

#[component]
fn Links(title: &'static str, ids: Vec<String>, testid: &'static str) -> impl IntoView {
    (!ids.is_empty()).then(|| {
        view! {
            <h2>{title}</h2>
            <ul class="links" data-testid=testid>
                {ids.into_iter().map(|id| view! { <li><a href=crate::url::href(&format::job_href(&id))>{id.clone()}</a></li> }).collect_view()}
            </ul>
        }
    })
}
