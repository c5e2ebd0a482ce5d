//! `/instances`: the overview across every Redis instance of the console (`--redis NAME=URL`,
//! repeated). Each instance's shared snapshot is read concurrently, each with its own deadline
//! (`Fleet::read_all`), so one unreachable instance shows as such and never breaks the others.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::async_page;
use crate::format;
use crate::state::{Fleet, Here};

/// One instance's line: its totals, or why they could not be read.
struct Line {
    name: String,
    href: String,
    read: Result<Arc<engine::model::Snapshot>, String>,
}

#[component]
pub fn InstancesPage() -> impl IntoView {
    let fleet = use_context::<Arc<Fleet>>();
    let here = use_context::<Here>();
    async_page(async move {
        let (Some(fleet), Some(here)) = (fleet, here) else {
            return Ok(view! {
                <Title text="Instances"/>
                <h1>"Instances"</h1>
                <p class="empty" data-testid="single-instance">
                    "This console watches one Redis. Give "<code>"--redis NAME=URL"</code>
                    " more than once to watch several."
                </p>
            }
            .into_any());
        };
        let lines: Vec<Line> = fleet
            .read_all()
            .await
            .into_iter()
            .map(|(name, read)| Line {
                href: format!("{}/", here.scope(&name)),
                name,
                read,
            })
            .collect();
        let down = lines.iter().filter(|l| l.read.is_err()).count();
        Ok(view! {
            <Title text="Instances"/>
            <h1>"Instances"</h1>
            <p class="hint">{format!("{} Redis instances", lines.len())}
                {(down > 0).then(|| format!(", {down} unreachable"))}</p>
            <table class="grid" data-testid="instances-table">
                <thead><tr>
                    <th>"Instance"</th><th>"Redis"</th><th class="num">"Queues"</th>
                    <th class="num">"Queued"</th><th class="num">"Started"</th>
                    <th class="num">"Failed"</th><th class="num">"Workers"</th>
                </tr></thead>
                <tbody>
                    {lines.into_iter().map(|l| {
                        let current = l.name == here.name;
                        let cells = match &l.read {
                            Ok(s) => view! {
                                <td>{format!("{} · {}", s.redis.version, s.redis.used_memory_human)}</td>
                                <td class="num">{format::count(s.queues.len() as u64)}</td>
                                <td class="num" data-testid="instance-queued">{format::count(s.totals.queued)}</td>
                                <td class="num">{format::count(s.totals.started)}</td>
                                <td class="num" data-testid="instance-failed">{format::count(s.totals.failed)}</td>
                                <td class="num">{format::count(s.workers.len() as u64)}</td>
                            }.into_any(),
                            Err(e) => view! {
                                <td colspan="6" class="error" data-testid="instance-down">
                                    "unreachable: "{e.clone()}
                                </td>
                            }.into_any(),
                        };
                        view! {
                            <tr data-testid="instance-row" data-instance=l.name.clone()>
                                <td><a href=l.href class:current=current>{l.name.clone()}</a></td>
                                {cells}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any())
    })
}
