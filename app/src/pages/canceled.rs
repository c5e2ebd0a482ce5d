//! `/canceled?page=&size=`: canceled jobs of every queue, newest first, with enqueue-now and
//! delete per row and for a selection.

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
pub fn CanceledPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let req = PageReq::from_query(&query)?;
        let (page, total) = load(&console, JobList::Canceled, &req).await?;
        let here = format!("/canceled?page={}&size={}", req.page, req.size);
        let actions = if console.read_only {
            vec![]
        } else {
            row_actions(JobList::Canceled)
        };
        Ok(view! {
            <Title text="Canceled jobs"/>
            <AcrossHeading list=JobList::Canceled heading="Canceled jobs" total=total/>
            <RowForms actions=actions.clone() return_to=here/>
            <JobTable
                jobs=page.items
                columns=Columns { origin: true, exception: false, worker: false, score: None }
                actions=actions
                now=engine::time::now()
            />
            <Pager base="/canceled?".to_string() req=req total=page.total/>
        }
        .into_any())
    })
}
