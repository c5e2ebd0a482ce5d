//! `/workers`: every worker in `rq:workers`, grouped by pool, with the busy-share chart. The
//! pools and rows are `rows::workers::LiveWorkers` (server-rendered complete, live once
//! hydrated); the strip above them shows the counts and holds the pause switch.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::charts::{parse_range, Kind, LiveChart, RangeSwitch};
use crate::components::status::PageError;
use crate::components::status::{async_page, console};
use crate::rows::workers::{LiveWorkers, Workers};
use crate::watch::{LiveWatch, Watch};

const HERE: &str = "/workers";

#[component]
pub fn WorkersPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let range = parse_range(query.get("range").as_deref()).map_err(PageError::BadRequest)?;
        let snap = console.snapshot().await?;
        let busy = crate::charts::load::views(&console, &[Kind::Busy], None, range).await;
        let read_only = console.read_only;
        let live_counts = Watch::Workers.counts(&snap);
        Ok(view! {
            <Title text="Workers"/>
            <h1>"Workers"</h1>
            <LiveWatch watch=Watch::Workers initial=live_counts here=HERE.to_string() rows_live=true/>
            <section class="charts-section">
                <RangeSwitch base=HERE.to_string() current=range.to_string()/>
                <div class="charts">
                    {busy.into_iter().map(|v| view! { <LiveChart view=v/> }).collect_view()}
                </div>
            </section>
            <LiveWorkers initial=Workers::of(&snap, engine::limits::MAX_SLOTS) read_only=read_only/>
        }
        .into_any())
    })
}
