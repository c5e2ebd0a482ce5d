//! `/cron`: every cron scheduler registered in `rq:cron_schedulers` — Python `rq cron`
//! processes and Taskmill's (`taskmill cron`, `worker --cron`) alike — with each job's schedule,
//! next run, last run and that job's status, and "Run now".

use engine::cron::{CronJobInfo, CronSchedulerInfo};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::actions::RunCron;
use crate::components::forms::PostButton;
use crate::components::status::{async_page, console};
use crate::format;

const HERE: &str = "/cron";

#[component]
pub fn CronPage() -> impl IntoView {
    let console = console();
    async_page(async move {
        let overview = console.backend.cron().await?;
        let now = engine::time::now();
        let read_only = console.read_only;
        let none = overview.schedulers.is_empty();
        Ok(view! {
            <Title text="Cron"/>
            <h1>"Cron"</h1>
            <p class="hint">
                "Cron schedulers registered in Redis: Python " <code>"rq cron"</code>
                " and Taskmill's " <code>"taskmill cron --cron FILE.toml"</code>
                ". Each tick is enqueued once, however many schedulers run the same jobs."
            </p>
            {none.then(|| view! { <p class="empty" data-testid="cron-empty">"No cron scheduler is running."</p> })}
            {overview.truncated.then(|| view! { <p class="hint">"Showing the 200 most recently seen schedulers."</p> })}
            {overview.schedulers.into_iter().map(|s| view! {
                <Scheduler s=s now=now read_only=read_only/>
            }).collect_view()}
        }
        .into_any())
    })
}

#[component]
fn Scheduler(s: CronSchedulerInfo, now: f64, read_only: bool) -> impl IntoView {
    let kind = if s.kind == "taskmill" {
        "Taskmill cron"
    } else {
        "rq cron"
    };
    let seen = format::ago(s.last_heartbeat, now);
    let host = match (&s.hostname, s.pid) {
        (Some(h), Some(p)) => format!("{h}, pid {p}"),
        (Some(h), None) => h.clone(),
        _ => String::new(),
    };
    view! {
        <section class="pool" data-testid=format!("cron-scheduler-{}", format::dom_id(&s.name))>
            <h2>{kind} " " <code>{s.name.clone()}</code>
                {s.stale.then(|| view! { <span class="tag stale" data-testid="stale">"stale"</span> })}
            </h2>
            <p class="desc">
                {host} " · heartbeat " {seen}
                {s.config_file.clone().map(|f| view! { " · " <code>{f}</code> })}
            </p>
            {s.undecodable.clone().map(|why| view! { <p class="desc">"undecodable: " {why}</p> })}
            <table class="grid cron" data-testid="cron-table">
                <thead><tr>
                    <th>"Job"</th><th>"Function"</th><th>"Queue"</th><th>"Schedule"</th>
                    <th>"Next run"</th><th>"Last run"</th><th>"Last job"</th>
                    {(!read_only).then(|| view! { <th>"Actions"</th> })}
                </tr></thead>
                <tbody>
                    {s.jobs.into_iter().map(|j| view! { <JobRow j=j now=now read_only=read_only/> }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn JobRow(j: CronJobInfo, now: f64, read_only: bool) -> impl IntoView {
    let schedule = j.schedule_text();
    let next = match j.next_enqueue_time {
        Some(t) if t >= now => format!("in {}", format::age(t - now)),
        Some(t) => format!("due ({} ago)", format::age(now - t)),
        None => "—".into(),
    };
    let last = j
        .latest_enqueue_time
        .map_or_else(|| "never".to_string(), |t| format::ago(Some(t), now));
    let status = j
        .last_job_status
        .clone()
        .unwrap_or_else(|| "expired".into());
    let testid = format!("cron-job-{}", format::dom_id(&j.name));
    view! {
        <tr data-testid=testid.clone()>
            <td class="wname">{j.name.clone()}</td>
            <td><code>{j.func_name.clone()}</code></td>
            <td><a class="qlink" href=crate::url::href(&format::queue_href(&j.queue_name))>{j.queue_name.clone()}</a></td>
            <td>{schedule}</td>
            <td title=format::timestamp(j.next_enqueue_time)>{next}</td>
            <td title=format::timestamp(j.latest_enqueue_time)>{last}</td>
            <td>
                {j.last_job_id.clone().map(|id| view! {
                    <a href=crate::url::href(&format::job_href(&id))>{id.clone()}</a>
                    " "
                    <span class=format!("state state-{}", format::dom_id(&status)) data-testid="cron-last-status">{status.clone()}</span>
                })}
            </td>
            {(!read_only).then(|| view! {
                <td class="actions">
                    <PostButton url=RunCron::PATH label="Run now".into()
                        fields=vec![("name", j.name.clone())] return_to=HERE.into()
                        testid=format!("run-now-{}", format::dom_id(&j.name))/>
                </td>
            })}
        </tr>
    }
}
