//! Taskmill console: Leptos pages, components and server functions.
//!
//! Pages are server-only components rendered with `SsrMode::Async`, so every page is complete
//! HTML that works with JavaScript disabled. Actions are server functions posted by plain
//! `<form method="post">`s. Only the live widgets (`live`, `watch`, `rows`, `charts`) are `#[island]`s.
//!
//! # Layout
//! - `state`      — (ssr) `Console`: the Store, read-only flag and the shared snapshot cache.
//! - `auth`       — `Principal` (who acts, for audit records), `Role` and the one table of
//!   which role each mutation URL needs (the server refuses, the forms hide).
//! - `format`     — number, age, timestamp and URL formatting shared by pages and islands.
//! - `url`        — the base path (`--url-prefix`) every browser-facing URL goes through.
//! - `live`       — the live overview island (follows the live feed).
//! - `feed`       — the browser end of the live feed: one EventSource per page.
//! - `watch`      — the live strip of list pages (counts, pause switch, job status).
//! - `rows`       — the live rows of the queue, failed, workers and job pages (islands).
//! - `events`     — (ssr) the live feed's ticker: one snapshot per tick for every subscriber.
//! - `charts`     — chart data for islands; (ssr) SVG rendering with plotters, cached.
//! - `actions`    — every operator action as a `/ui/<name>` server function (input → `Action`).
//! - `error`      — (ssr) `PageError`: engine errors and refusals as page state and status.
//! - `components` — layout, flash messages, job tables, pager, error panels.
//! - `pages`      — one file per route.

// Deeply nested view types (pages inside Suspense inside the router) exceed the default.
#![recursion_limit = "256"]

pub mod actions;
pub mod auth;
pub mod charts;
pub mod components;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod events;
pub mod feed;
pub mod format;
pub mod live;
#[cfg(feature = "ssr")]
pub mod pages;
pub mod rows;
#[cfg(feature = "ssr")]
pub mod state;
pub mod url;
pub mod watch;

#[cfg(feature = "ssr")]
pub use root::{shell, App};

/// The static site's URLs the page shell links to. The server provides them as context: the
/// content-hashed names of the site embedded in the binary (cached for a year), or the plain
/// names when the site is served from `--site-root`. `missing` makes every page say that the
/// binary has no site (styles and live widgets absent).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct SiteAssets {
    pub css: String,
    pub boot: String,
    pub js: String,
    pub wasm: String,
    pub missing: bool,
}

#[cfg(feature = "ssr")]
impl Default for SiteAssets {
    fn default() -> Self {
        SiteAssets {
            css: "/pkg/taskmill.css".into(),
            boot: "/boot.js".into(),
            js: "/pkg/taskmill.js".into(),
            wasm: "/pkg/taskmill.wasm".into(),
            missing: false,
        }
    }
}

/// The inline scripts leptos_axum appends after every page, as sent when no nonce is in
/// context (with one, each tag reads `<script nonce="...">`). They carry hydration data for
/// resources and error boundaries; the pages use neither, so the text never varies (pinned by
/// the render tests). The CSP blocks them (harmless: `public/boot.js` defines the same
/// globals), but the browser logs one violation per tag, so the server should strip them from
/// HTML responses.
pub const APPENDED_DATA_SCRIPTS: [&str; 2] = [
    "<script>__RESOLVED_RESOURCES=[];__SERIALIZED_ERRORS=[];__PENDING_RESOURCES=[];__RESOURCE_RESOLVERS=[];</script>",
    "<script>__INCOMPLETE_CHUNKS=[];</script>",
];

/// The document shell and the router. Server-only: the browser hydrates islands, never the
/// whole app.
#[cfg(feature = "ssr")]
mod root {
    use leptos::prelude::*;
    use leptos_meta::{provide_meta_context, MetaTags, Title};
    use leptos_router::components::{Route, Router, Routes};
    use leptos_router::{path, SsrMode};

    use crate::components::layout::Layout;
    use crate::pages::cron::CronPage;
    use crate::pages::search::SearchPage;
    use crate::pages::{
        audit::AuditPage, failed::FailedPage, failed_group::FailedGroupPage,
        failed_groups::FailedGroupsPage, job::JobPage, not_found::NotFound, overview::OverviewPage,
        queue::QueuePage, stats::StatsPage, workers::WorkersPage,
    };
    use crate::pages::{canceled::CanceledPage, deferred::DeferredPage, scheduled::ScheduledPage};
    use crate::pages::{
        celery_queue::CeleryQueuePage, celery_queues::CeleryQueuesPage,
        celery_task::CeleryTaskPage, celery_tasks::CeleryTasksPage,
        celery_worker::CeleryWorkerPage, celery_workers::CeleryWorkersPage,
    };
    use crate::pages::{chord::ChordPage, instances::InstancesPage, limits::LimitsPage};

    /// The HTML document around the app. No inline scripts or styles: the strict CSP
    /// (`script-src 'self' 'wasm-unsafe-eval'`) would refuse them, so hydration starts from
    /// `/boot.js` (see `public/boot.js`), which finds the bundle's URLs on its own tag.
    pub fn shell(options: LeptosOptions) -> impl IntoView {
        let _ = options;
        let assets = use_context::<crate::SiteAssets>().unwrap_or_default();
        let base = crate::url::base();
        let missing = assets.missing.then(|| {
            view! {
                <p class="banner error" role="alert" data-testid="site-missing">
                    "This taskmill binary was built without its site (run scripts/build-site.sh, \
                     or pass --site-root DIR): pages work, without styles or live updates."
                </p>
            }
        });
        view! {
            <!DOCTYPE html>
            <html lang="en">
                <head>
                    <meta charset="utf-8"/>
                    <meta name="viewport" content="width=device-width, initial-scale=1"/>
                    <link rel="icon" href="data:,"/>
                    <link rel="stylesheet" href=base.href(&assets.css)/>
                    <script type="module" src=base.href(&assets.boot)
                        data-taskmill-js=base.href(&assets.js)
                        data-taskmill-wasm=base.href(&assets.wasm)></script>
                    <MetaTags/>
                </head>
                <body data-role=crate::auth::role().as_str() data-base=base.as_str().to_string()>
                    {missing}
                    <App/>
                </body>
            </html>
        }
    }

    /// The root component: routes, each rendered fully on the server before the response is sent.
    #[component]
    pub fn App() -> impl IntoView {
        provide_meta_context();
        view! {
            // Every page title passes through here, and leptos_meta writes it raw into <title>.
            <Title formatter=|text: String| format!("{} · Taskmill", crate::format::title_text(&text))/>
            <Router>
                <Layout>
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/") view=OverviewPage ssr=SsrMode::Async/>
                        <Route path=path!("/queues/:name") view=QueuePage ssr=SsrMode::Async/>
                        <Route path=path!("/jobs/:id") view=JobPage ssr=SsrMode::Async/>
                        <Route path=path!("/workers") view=WorkersPage ssr=SsrMode::Async/>
                        <Route path=path!("/failed") view=FailedPage ssr=SsrMode::Async/>
                        <Route path=path!("/failed/groups") view=FailedGroupsPage ssr=SsrMode::Async/>
                        <Route path=path!("/failed/groups/:fingerprint") view=FailedGroupPage ssr=SsrMode::Async/>
                        <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async/>
                        <Route path=path!("/stats") view=StatsPage ssr=SsrMode::Async/>
                        <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async/>
                        <Route path=path!("/scheduled") view=ScheduledPage ssr=SsrMode::Async/>
                        <Route path=path!("/deferred") view=DeferredPage ssr=SsrMode::Async/>
                        <Route path=path!("/canceled") view=CanceledPage ssr=SsrMode::Async/>
                        <Route path=path!("/limits") view=LimitsPage ssr=SsrMode::Async/>
                        <Route path=path!("/groups/:name") view=ChordPage ssr=SsrMode::Async/>
                        <Route path=path!("/cron") view=CronPage ssr=SsrMode::Async/>
                        <Route path=path!("/instances") view=InstancesPage ssr=SsrMode::Async/>
                        <Route path=path!("/celery") view=CeleryQueuesPage ssr=SsrMode::Async/>
                        <Route path=path!("/celery/queues/:name") view=CeleryQueuePage ssr=SsrMode::Async/>
                        <Route path=path!("/celery/workers") view=CeleryWorkersPage ssr=SsrMode::Async/>
                        <Route path=path!("/celery/workers/:hostname") view=CeleryWorkerPage ssr=SsrMode::Async/>
                        <Route path=path!("/celery/tasks") view=CeleryTasksPage ssr=SsrMode::Async/>
                        <Route path=path!("/celery/tasks/:id") view=CeleryTaskPage ssr=SsrMode::Async/>
                    </Routes>
                </Layout>
            </Router>
        }
    }
}
