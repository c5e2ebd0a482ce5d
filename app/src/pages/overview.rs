//! `/?range=`: the live overview (an island, server-rendered first), the suspend switch and
//! the charts (throughput, queue depth, oldest-job age) over the chosen range.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::actions::{ResumeWorkers, SuspendWorkers};
use crate::charts::{parse_range, Kind, LiveChart, RangeSwitch};
use crate::components::forms::ReturnTo;
use crate::components::status::{async_page, console, set_status, PageError};
use crate::live::{load, LiveOverview};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let range = parse_range(query.get("range").as_deref()).map_err(PageError::BadRequest)?;
        let data = load(&console).await;
        if data.error.is_some() {
            set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
        }
        let suspended = data.snapshot.as_ref().is_some_and(|s| s.suspended);
        let show_switch = data.snapshot.is_some() && !console.read_only;
        let views = crate::charts::load::views(
            &console,
            &[Kind::Throughput, Kind::Depth, Kind::Age],
            None,
            range,
        )
        .await;
        let charts = view! {
            <section class="charts-section">
                <h2>"History"</h2>
                <RangeSwitch base="/".to_string() current=range.to_string()/>
                <div class="charts">
                    {views.into_iter().map(|v| view! { <LiveChart view=v/> }).collect_view()}
                </div>
            </section>
        };
        Ok(view! {
            <Title text="Overview"/>
            <h1>"Overview"</h1>
            {suspended.then(|| view! {
                <div class="banner warn" data-testid="suspended-banner">
                    "Workers are suspended: they finish their current job and take no new ones."
                </div>
            })}
            {show_switch.then(|| view! { <SuspendSwitch suspended=suspended/> })}
            <LiveOverview initial=data/>
            {charts}
        }
        .into_any())
    })
}

#[component]
fn SuspendSwitch(suspended: bool) -> impl IntoView {
    if !crate::auth::may_post(SuspendWorkers::PATH) {
        return ().into_any();
    }
    if suspended {
        view! {
            <form class="inline switch" method="post" action=crate::url::href(ResumeWorkers::PATH)>
                <ReturnTo to="/".to_string()/>
                <button type="submit" class="btn" data-testid="resume">"Resume workers"</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <form class="inline switch" method="post" action=crate::url::href(SuspendWorkers::PATH)>
                <ReturnTo to="/".to_string()/>
                <label>
                    "Suspend for "
                    <input type="number" name="duration" min="1" placeholder="∞" class="narrow"
                        aria-label="Duration in seconds (empty: until resumed)"/>
                    " s "
                </label>
                <button type="submit" class="btn danger" data-testid="suspend">"Suspend workers"</button>
            </form>
        }
        .into_any()
    }
}
