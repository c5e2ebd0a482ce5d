//! `/stats?range=&sort=`: the Metrics page, one row per function for the chosen range (count,
//! failure %, p50 / p95 / p99, total time) with a duration histogram, sorted on the server by
//! `?sort=` links so it works without JavaScript (like Sidekiq's Metrics page).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::charts::hist::{secs, Histogram};
use crate::charts::{parse_range, RangeSwitch};
use crate::components::status::{async_page, console, PageError};
use crate::format;

/// One function's figures over the range (from the backend's `stats_functions`).
#[derive(Clone, Debug, PartialEq)]
pub struct FnRow {
    pub function: String,
    /// Including failures.
    pub count: u64,
    pub failed: u64,
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub p99_s: Option<f64>,
    pub total_s: f64,
    pub histogram: Vec<u64>,
}

impl FnRow {
    fn failure_share(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.failed as f64 / self.count as f64
        }
    }
}

/// The sort keys (`?sort=`), as column headers; numbers sort largest first.
pub const SORTS: [(&str, &str); 7] = [
    ("function", "Function"),
    ("count", "Jobs"),
    ("failed", "Failed"),
    ("p50", "p50"),
    ("p95", "p95"),
    ("p99", "p99"),
    ("total", "Total time"),
];

pub fn sort_rows(rows: &mut [FnRow], by: &str) {
    let f = |v: Option<f64>| v.unwrap_or(-1.0);
    match by {
        "function" => rows.sort_by(|a, b| a.function.cmp(&b.function)),
        "count" => rows.sort_by_key(|r| std::cmp::Reverse(r.count)),
        "failed" => rows.sort_by(|a, b| b.failure_share().total_cmp(&a.failure_share())),
        "p50" => rows.sort_by(|a, b| f(b.p50_s).total_cmp(&f(a.p50_s))),
        "p95" => rows.sort_by(|a, b| f(b.p95_s).total_cmp(&f(a.p95_s))),
        "p99" => rows.sort_by(|a, b| f(b.p99_s).total_cmp(&f(a.p99_s))),
        _ => rows.sort_by(|a, b| b.total_s.total_cmp(&a.total_s)),
    }
}

#[component]
pub fn StatsPage() -> impl IntoView {
    let console = console();
    let query = use_query_map().get_untracked();
    async_page(async move {
        let range = parse_range(query.get("range").as_deref()).map_err(PageError::BadRequest)?;
        let sort = query.get("sort").unwrap_or_else(|| "total".into());
        if !SORTS.iter().any(|(k, _)| *k == sort) {
            return Err(PageError::BadRequest(format!(
                "Unknown sort {sort:?}: use function, count, failed, p50, p95, p99 or total."
            )));
        }
        let (mut rows, bounds) = crate::charts::load::functions(&console, range).await?;
        sort_rows(&mut rows, &sort);
        let empty = rows.is_empty();
        Ok(view! {
            <Title text="Metrics"/>
            <h1>"Metrics"</h1>
            <p class="hint">
                "Per function, jobs run by Taskmill workers (and, with --celery-broker, Celery \
                 tasks by name, from their events) in the chosen range: count (failures \
                 included), failure share, duration percentiles and total run time."
            </p>
            <RangeSwitch base=format!("/stats?sort={sort}") current=range.to_string()/>
            {empty.then(|| view! { <p class="empty" data-testid="stats-empty">"no data yet"</p> })}
            {(!empty).then(|| view! {
                <table class="grid" data-testid="stats-table">
                    <thead><tr>
                        {SORTS.into_iter().map(|(key, label)| {
                            let cls = if key == "function" { "" } else { "num" };
                            view! {
                                <th class=cls>
                                    <a href=crate::url::href(&format!("/stats?range={range}&sort={key}"))
                                        class:current=key == sort
                                        aria-sort=(key == sort).then_some(if key == "function" { "ascending" } else { "descending" })
                                        data-testid=format!("sort-{key}")>{label}</a>
                                </th>
                            }
                        }).collect_view()}
                        <th>"Durations"</th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|r| {
                            let pct = format!("{:.1} %", r.failure_share() * 100.0);
                            let p = |v: Option<f64>| v.map(secs).unwrap_or_else(|| "—".into());
                            view! {
                                <tr data-testid=format!("fn-row-{}", format::dom_id(&r.function))>
                                    <td><code>{r.function.clone()}</code></td>
                                    <td class="num">{format::count(r.count)}</td>
                                    <td class="num" class:hot=(r.failed > 0)>{format::count(r.failed)} " · " {pct}</td>
                                    <td class="num">{p(r.p50_s)}</td>
                                    <td class="num">{p(r.p95_s)}</td>
                                    <td class="num">{p(r.p99_s)}</td>
                                    <td class="num">{secs(r.total_s)}</td>
                                    <td><Histogram counts=r.histogram.clone() bounds=bounds.clone()/></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        }
        .into_any())
    })
}
