//! `/limits`: every concurrency / rate limit the `--limits` workers run with, and its use now
//! (permits held, starts inside the rate window, jobs parked waiting for a permit).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::{async_page, console};
use crate::format;

#[component]
pub fn LimitsPage() -> impl IntoView {
    let console = console();
    async_page(async move {
        let limits = console.backend.limits().await?;
        let empty = limits.is_empty();
        Ok(view! {
            <Title text="Limits"/>
            <h1>"Limits"</h1>
            <p class="hint">"Fleet-wide limits of workers started with "<code>"--limits FILE.toml"</code>
                ". A job over its limit is parked (still queued) until a permit frees up."</p>
            <table class="grid" data-testid="limits-table">
                <thead><tr>
                    <th>"Limit"</th><th>"Applies to"</th>
                    <th class="num">"Running"</th><th class="num">"Concurrency"</th>
                    <th class="num">"Starts in window"</th><th class="num">"Rate"</th>
                    <th class="num">"Waiting"</th>
                </tr></thead>
                <tbody>
                    {limits.into_iter().map(|l| {
                        let scope = match l.limit.scope {
                            engine::throttle::Scope::Function => "function",
                            engine::throttle::Scope::Queue => "queue",
                        };
                        view! {
                            <tr data-testid="limit-row">
                                <td><code>{l.limit.name.clone()}</code></td>
                                <td>{scope}</td>
                                <td class="num" data-testid="limit-running">{format::count(l.running)}</td>
                                <td class="num">{l.limit.concurrency.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                                <td class="num">{format::count(l.started_in_window)}</td>
                                <td class="num">{l.limit.rate.map(|r| r.text()).unwrap_or_else(|| "—".into())}</td>
                                <td class="num" data-testid="limit-waiting">{format::count(l.waiting)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {empty.then(|| view! { <p class="empty">"No limits: no worker runs with --limits."</p> })}
        }
        .into_any())
    })
}
