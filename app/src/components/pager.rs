//! `?page=&size=` parsing (bad values are a 400, not a silent default) and the pager links.

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_router::params::ParamsMap;

#[cfg(feature = "ssr")]
use crate::components::status::PageError;
use crate::format;

pub const SIZES: [u64; 4] = [10, 25, 50, 100];
pub const DEFAULT_SIZE: u64 = 25;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageReq {
    /// 1-based.
    pub page: u64,
    pub size: u64,
}

impl PageReq {
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.size
    }

    #[cfg(feature = "ssr")]
    pub fn from_query(q: &ParamsMap) -> Result<PageReq, PageError> {
        let page = match q.get("page") {
            None => 1,
            Some(p) => p
                .parse::<u64>()
                .ok()
                .filter(|p| (1..=10_000_000).contains(p))
                .ok_or_else(|| PageError::BadRequest(format!("Invalid page number {p:?}.")))?,
        };
        let size = match q.get("size") {
            None => DEFAULT_SIZE,
            Some(s) => s
                .parse::<u64>()
                .ok()
                .filter(|s| SIZES.contains(s))
                .ok_or_else(|| {
                    PageError::BadRequest(format!(
                        "Invalid page size {s:?}: use 10, 25, 50 or 100."
                    ))
                })?,
        };
        Ok(PageReq { page, size })
    }

    pub fn last_page(&self, total: u64) -> u64 {
        total.div_ceil(self.size).max(1)
    }
}

/// Prev / next / size links. `base` is the page's URL with its other parameters and a
/// trailing `?` or `&`.
#[component]
pub fn Pager(base: String, req: PageReq, total: u64) -> impl IntoView {
    let last = req.last_page(total);
    let link = {
        let base = base.clone();
        move |page: u64, size: u64| crate::url::href(&format!("{base}page={page}&size={size}"))
    };
    let prev = (req.page > 1).then(|| link(req.page - 1, req.size));
    let next = (req.page < last).then(|| link(req.page + 1, req.size));
    let first_row = if total == 0 { 0 } else { req.offset() + 1 };
    let last_row = (req.offset() + req.size).min(total);
    view! {
        <nav class="pager" data-testid="pager">
            <span class="pager-info">
                {format!(
                    "{}–{} of {} · page {} of {}",
                    format::count(first_row),
                    format::count(last_row),
                    format::count(total),
                    format::count(req.page),
                    format::count(last)
                )}
            </span>
            {match prev {
                Some(href) => view! { <a class="btn small" href=href rel="prev" data-testid="page-prev">"← Prev"</a> }.into_any(),
                None => view! { <span class="btn small disabled">"← Prev"</span> }.into_any(),
            }}
            {match next {
                Some(href) => view! { <a class="btn small" href=href rel="next" data-testid="page-next">"Next →"</a> }.into_any(),
                None => view! { <span class="btn small disabled">"Next →"</span> }.into_any(),
            }}
            <span class="sizes">
                "Per page: "
                {SIZES.into_iter().map(|s| {
                    let current = s == req.size;
                    view! {
                        <a href=link(1, s) class:current=current data-testid=format!("size-{s}")>{s}</a>
                    }
                }).collect_view()}
            </span>
        </nav>
    }
}
