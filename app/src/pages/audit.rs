//! `/audit`: operator actions, newest first.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::pager::{PageReq, Pager};
use crate::components::status::{async_page, console};
use crate::format;

#[component]
pub fn AuditPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let req = PageReq::from_query(&query)?;
        let page = console.backend.audit(req.offset(), req.size).await?;
        let empty = page.items.is_empty();
        Ok(view! {
            <Title text="Audit log"/>
            <h1>"Audit log"</h1>
            <p class="hint">"Every action taken from this console or its API: who, when, what, how many."</p>
            <table class="grid" data-testid="audit-table">
                <thead><tr>
                    <th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Target"</th><th class="num">"Count"</th>
                </tr></thead>
                <tbody>
                    {page.items.into_iter().map(|e| view! {
                        <tr data-testid="audit-row">
                            <td>{format::timestamp(Some(e.at))}</td>
                            <td>{e.who}</td>
                            <td><code>{e.action}</code></td>
                            <td class="target">{e.target}</td>
                            <td class="num">{format::count(e.count)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {empty.then(|| view! { <p class="empty">"No actions recorded yet."</p> })}
            <Pager base="/audit?".to_string() req=req total=page.total/>
        }
        .into_any())
    })
}
