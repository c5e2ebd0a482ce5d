//! `/scheduled?page=&size=`: scheduled jobs of every queue, soonest first, with "Enqueue now"
//! (run now), cancel and delete per row and for a selection.

use engine::model::JobList;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::across::{load, AcrossHeading};
use crate::components::forms::RowForms;
use crate::components::pager::{PageReq, Pager};
use crate::components::status::{async_page, console};
use crate::components::table::{Columns, JobTable};
use crate::pages::queue::row_actions;

#[component]
pub fn ScheduledPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let req = PageReq::from_query(&query)?;
        let (page, total) = load(&console, JobList::Scheduled, &req).await?;
        let here = format!("/scheduled?page={}&size={}", req.page, req.size);
        let actions = if console.read_only {
            vec![]
        } else {
            row_actions(JobList::Scheduled)
        };
        Ok(view! {
            <Title text="Scheduled jobs"/>
            <AcrossHeading list=JobList::Scheduled heading="Scheduled jobs" total=total/>
            <RowForms actions=actions.clone() return_to=here/>
            <JobTable
                jobs=page.items
                columns=Columns { origin: true, exception: false, worker: false, score: Some("Scheduled for") }
                actions=actions
                now=engine::time::now()
            />
            <Pager base="/scheduled?".to_string() req=req total=page.total/>
        }
        .into_any())
    })
}
