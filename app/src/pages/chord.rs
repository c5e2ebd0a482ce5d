//! `/groups/{name}`: one chord (an RQ group with a callback) — status, progress, the callback
//! and every member with its current status. A plain RQ group (made by Python's `Group`) shows
//! its members with status `group`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::status::{async_page, console, PageError};
use crate::format;

#[component]
pub fn ChordPage() -> impl IntoView {
    let console = console();
    let name = use_params_map()
        .get_untracked()
        .get("name")
        .unwrap_or_default();
    async_page(async move {
        let Some(c) = console.backend.chord(&name).await? else {
            return Err(PageError::not_found(
                "No such group",
                format!("There is no group named \u{201c}{name}\u{201d}."),
            ));
        };
        let pct = (c.ended * 100).checked_div(c.total).unwrap_or(0);
        let heading = format!("Group {}", c.name);
        Ok(view! {
            <Title text=heading.clone()/>
            <h1>{heading}</h1>
            <dl class="facts" data-testid="chord-facts">
                <dt>"Status"</dt><dd data-testid="chord-status">{c.status.clone()}</dd>
                <dt>"Progress"</dt>
                <dd>
                    <progress max="100" value=pct.to_string()></progress>
                    " "<span data-testid="chord-progress">{format!("{}/{} ended", c.ended, c.total)}</span>
                    {(c.failed > 0).then(|| format!(", {} failed", c.failed))}
                </dd>
                <dt>"On member failure"</dt><dd>{c.policy.clone()}</dd>
                <dt>"Callback"</dt>
                <dd>
                    <code>{c.callback_func.clone()}</code>" on "{c.callback_queue.clone()}" — "
                    {(!c.callback_id.is_empty()).then(|| view! {
                        <a href=crate::url::href(&format::job_href(&c.callback_id))>{c.callback_id.clone()}</a>
                    })}
                </dd>
                <dt>"Created"</dt><dd>{c.created_at.clone().unwrap_or_default()}</dd>
                <dt>"Ended"</dt><dd>{c.ended_at.clone().unwrap_or_default()}</dd>
            </dl>
            <h2>"Members"</h2>
            <p class="hint">
                {c.by_status.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(" · ")}
            </p>
            <table class="grid" data-testid="chord-members">
                <thead><tr><th>"Job"</th><th>"Status"</th><th>"Counted as ended"</th></tr></thead>
                <tbody>
                    {c.members.into_iter().map(|m| view! {
                        <tr data-testid="chord-member">
                            <td><a href=crate::url::href(&format::job_href(&m.id))>{m.id.clone()}</a></td>
                            <td>{m.status}</td>
                            <td>{if m.ended { "yes" } else { "no" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any())
    })
}
