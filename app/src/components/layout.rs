//! The page frame: brand, navigation, read-only badge and the (signed) flash message that
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
    ];
    // Only with a Celery broker configured.
    if console().celery.is_some() {
        nav.push(("/celery", "Celery"));
    }
    view! {
        <header class="top">
            <a class="brand" href="/">"Taskmill"</a>
            <nav>
                {nav.into_iter().map(|(href, label)| {
                    let current = if href == "/" { path == "/" } else { path.starts_with(href) };
                    view! {
                        <a href=href class:current=current aria-current=current.then_some("page")>
                            {label}
                        </a>
                    }
                }).collect_view()}
            </nav>
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
