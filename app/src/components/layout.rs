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
    let instances = use_context::<crate::state::Here>()
        .map(|here| view! { <Instances here=here path=path.clone()/> });
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
            {instances}
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

/// The instance switcher (several Redis instances): the same page on each instance, and the
/// overview across all of them. A plain list of links, so it works without JavaScript.
#[component]
fn Instances(here: crate::state::Here, path: String) -> impl IntoView {
    let names = here.names.clone();
    view! {
        <details class="instances" data-testid="instance-switcher">
            <summary>"Redis: "<strong data-testid="current-instance">{here.name.clone()}</strong></summary>
            <ul>
                {names.iter().map(|name| {
                    let href = format!("{}{}", here.scope(name), path);
                    let current = *name == here.name;
                    view! {
                        <li><a href=href class:current=current aria-current=current.then_some("page")
                            data-testid="instance-link">{name.clone()}</a></li>
                    }
                }).collect_view()}
                <li><a href=format!("{}/instances", here.scope(&here.name)) data-testid="all-instances">"All instances"</a></li>
            </ul>
        </details>
    }
}
