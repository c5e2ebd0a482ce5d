//! Page-level failures, each rendered as an explicit panel with the matching HTTP status (never
//! a bare 500 for bad input or an unreachable Redis).

use axum::http::StatusCode;
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Clone, Debug)]
pub enum PageError {
    /// Redis could not be reached or failed; the next request simply retries.
    Redis(String),
    NotFound {
        title: String,
        detail: String,
    },
    BadRequest(String),
}

impl PageError {
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::Redis(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::NotFound { .. } => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }

    pub fn not_found(title: impl Into<String>, detail: impl Into<String>) -> PageError {
        PageError::NotFound {
            title: title.into(),
            detail: detail.into(),
        }
    }
}

impl From<engine::Error> for PageError {
    fn from(e: engine::Error) -> Self {
        match e {
            engine::Error::InvalidJobId(_)
            | engine::Error::InvalidQueueName(_)
            | engine::Error::Invalid(_) => PageError::BadRequest(e.to_string()),
            other => PageError::Redis(redis_error_text(&other)),
        }
    }
}

/// "Redis unreachable: ..." for connection failures, "Redis error: ..." otherwise.
pub fn redis_error_text(e: &engine::Error) -> String {
    if crate::actions::run::is_unreachable(e) {
        format!("Redis unreachable: {e}")
    } else {
        format!("Redis error: {e}")
    }
}

/// Sets the response status (leptos_axum applies it before the body is sent; pages render
/// with `SsrMode::Async`, so the whole page is known by then).
pub fn set_status(status: StatusCode) {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(status);
    }
}

#[component]
pub fn ErrorPanel(err: PageError) -> impl IntoView {
    set_status(err.status());
    match err {
        PageError::Redis(msg) => view! {
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
                <p><a href="/">"Back to the overview"</a></p>
            </section>
        }
        .into_any(),
        PageError::BadRequest(msg) => view! {
            <Title text="Bad request"/>
            <section class="panel" data-testid="bad-request">
                <h1>"Bad request"</h1>
                <p>{msg}</p>
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
