//! Page-level failures, each rendered as an explicit panel with the matching HTTP status (never
//! a bare 500 for bad input or an unreachable Redis).

use leptos::prelude::*;
use leptos_meta::Title;

pub use crate::error::{redis_error_text, set_status, PageError};

#[component]
pub fn ErrorPanel(err: PageError) -> impl IntoView {
    set_status(err.status());
    match err {
        PageError::Unavailable(msg) => view! {
            <Title text="Redis unreachable"/>
            <section class="panel error" data-testid="redis-unreachable">
                <h1>"Redis unreachable"</h1>
                <p>"The console could not read from Redis. Nothing is wrong with your jobs \
                    because of this page; reload to retry."</p>
                <pre class="detail">{msg}</pre>
            </section>
        }
        .into_any(),
        PageError::NotFound { title, detail } => view! {
            <Title text=title.clone()/>
            <section class="panel" data-testid="not-found">
                <h1>{title}</h1>
                <p>{detail}</p>
                <p><a href=crate::url::href("/")>"Back to the overview"</a></p>
            </section>
        }
        .into_any(),
        PageError::BadRequest(msg) | PageError::Conflict(msg) => view! {
            <Title text="Bad request"/>
            <section class="panel" data-testid="bad-request">
                <h1>"Bad request"</h1>
                <p>{msg}</p>
            </section>
        }
        .into_any(),
        PageError::ReadOnly => view! {
            <Title text="Read-only"/>
            <section class="panel" data-testid="read-only-refused">
                <h1>"Read-only"</h1>
                <p>"This console is read-only: actions are disabled."</p>
            </section>
        }
        .into_any(),
        PageError::Internal(msg) => view! {
            <Title text="Something went wrong"/>
            <section class="panel error" data-testid="internal-error">
                <h1>"Something went wrong"</h1>
                <p>"Redis answered something the console could not use. This is a bug or \
                    corrupt data; the server log has the details."</p>
                <pre class="detail">{msg}</pre>
            </section>
        }
        .into_any(),
    }
}

/// Renders a page body from an async loader inside `<Suspense>` (resolved on the server before
/// the response is sent), or the error panel.
pub fn async_page<Fut>(fut: Fut) -> impl IntoView
where
    Fut: std::future::Future<Output = Result<AnyView, PageError>> + Send + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {Suspend::new(async move {
                match fut.await {
                    Ok(v) => v,
                    Err(e) => view! { <ErrorPanel err=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The shared console state; pages can't render without it.
pub fn console() -> std::sync::Arc<crate::state::Console> {
    expect_context::<std::sync::Arc<crate::state::Console>>()
}
