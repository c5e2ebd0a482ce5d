//! The page frame: brand, navigation, the search box, read-only badge and the (signed) flash message that
//! actions leave in the query string (see `flash`).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::flash::Flash;
use crate::components::status::console;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let read_only = console().read_only;
    let path = use_location().pathname.get_untracked();
    let mut nav = vec![
        ("/", "Overview"),
        ("/failed", "Failed"),
        ("/workers", "Workers"),
        ("/audit", "Audit log"),
        ("/stats", "Metrics"),
        ("/scheduled", "Scheduled"),
        ("/deferred", "Deferred"),
        ("/canceled", "Canceled"),
        ("/limits", "Limits"),
        ("/cron", "Cron"),
    ];
    // Only with a Celery broker configured.
    if console().celery.is_some() {
        nav.push(("/celery", "Celery"));
    }
    view! {
        <header class="top">
            <a class="brand" href=crate::url::href("/")>"Taskmill"</a>
            <nav>
                {nav.into_iter().map(|(href, label)| {
                    let current = if href == "/" { path == "/" } else { path.starts_with(href) };
                    view! {
                        <a href=crate::url::href(href) class:current=current aria-current=current.then_some("page")>
                            {label}
                        </a>
                    }
                }).collect_view()}
            </nav>
            // A plain GET form: works without JavaScript; an exact job id lands on the job page.
            <form class="search" method="get" action=crate::url::href("/search") role="search">
                <input type="search" name="q" aria-label="Search jobs" data-testid="search-box"
                    placeholder="Search jobs or paste a job id" maxlength="500"/>
            </form>
            {read_only.then(|| view! {
                <span class="badge" data-testid="read-only" title="Actions are disabled">
                    "read-only"
                </span>
            })}
        </header>
        <main>
            <Flash/>
            {children()}
        </main>
    }
}
