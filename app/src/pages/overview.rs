//! `/`: the live overview (an island, server-rendered first) plus the suspend switch.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::actions::{ResumeWorkers, SuspendWorkers};
use crate::components::forms::ReturnTo;
use crate::components::status::{async_page, console, set_status};
use crate::live::{load, LiveOverview};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let console = console();
    async_page(async move {
        let data = load(&console).await;
        if data.error.is_some() {
            set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
        }
        let suspended = data.snapshot.as_ref().is_some_and(|s| s.suspended);
        let show_switch = data.snapshot.is_some() && !console.read_only;
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
        }
        .into_any())
    })
}

#[component]
fn SuspendSwitch(suspended: bool) -> impl IntoView {
    if suspended {
        view! {
            <form class="inline switch" method="post" action=ResumeWorkers::PATH>
                <ReturnTo to="/".to_string()/>
                <button type="submit" class="btn" data-testid="resume">"Resume workers"</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <form class="inline switch" method="post" action=SuspendWorkers::PATH>
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
