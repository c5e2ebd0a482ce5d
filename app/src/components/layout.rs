//! The page frame: brand, navigation, read-only badge and the flash message that actions leave
//! in the query string (`?ok=` / `?err=`, or leptos' own `?__err=` for undecodable form input).

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::components::status::console;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let read_only = console().read_only;
    let path = use_location().pathname.get_untracked();
    let nav = [
        ("/", "Overview"),
        ("/failed", "Failed"),
        ("/workers", "Workers"),
        ("/audit", "Audit log"),
    ];
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

#[component]
fn Flash() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let ok = query.get("ok");
    let err = query.get("err").or_else(|| {
        query.get("__err").map(|raw| {
            use leptos::server_fn::error::ServerFnUrlError;
            let e = ServerFnUrlError::<ServerFnError>::decode_err(&raw);
            format!("The form could not be read: {e}")
        })
    });
    view! {
        {ok.map(|m| view! { <div class="flash ok" role="status" data-testid="flash-ok">{m}</div> })}
        {err.map(|m| view! { <div class="flash err" role="alert" data-testid="flash-err">{m}</div> })}
    }
}
