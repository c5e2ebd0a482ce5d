//! Charts: server-rendered SVG (plotters, see `render`) wrapped in an island that re-fetches it
//! when the live feed announces a stats tick and relabels the time axis in the browser's zone.
//!
//! Without JavaScript a chart is a complete inline SVG with UTC tick labels (the caption says
//! so). The SVG uses presentation attributes only (`fill`, `stroke`), so the CSP's
//! `style-src 'self'` has nothing to block, and every name in it is escaped.
//!
//! - `render` — (ssr) one chart from series points: plot with plotters, ticks with chrono.
//! - `load`   — (ssr) which series a chart shows, read through the backend, cached per console.
//! - `hist`   — the small duration histogram of the Metrics page (hand-drawn bars).

pub mod hist;
#[cfg(feature = "ssr")]
pub mod load;
#[cfg(feature = "ssr")]
pub mod render;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub use load::Cache;

/// The ranges a chart can show, as written in `?range=` (the stats API's values).
pub const RANGES: [&str; 4] = ["1h", "24h", "7d", "30d"];
/// The default range.
pub const DEFAULT_RANGE: &str = "1h";

/// The chart's outer size in SVG units (it scales to the column width by CSS).
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 180;

/// `?range=` value or the default; `Err` names the valid ones.
pub fn parse_range(v: Option<&str>) -> Result<&'static str, String> {
    match v {
        None | Some("") => Ok(DEFAULT_RANGE),
        Some(v) => RANGES
            .into_iter()
            .find(|r| *r == v)
            .ok_or_else(|| format!("Unknown range {v:?}: use 1h, 24h, 7d or 30d.")),
    }
}

/// What a chart shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Jobs finished and failed per bucket.
    Throughput,
    /// Queued jobs, per queue.
    Depth,
    /// Age of the oldest queued job, per queue.
    Age,
    /// Busy share of the workers.
    Busy,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Throughput => "throughput",
            Kind::Depth => "depth",
            Kind::Age => "age",
            Kind::Busy => "busy",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Throughput, Kind::Depth, Kind::Age, Kind::Busy]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One x-axis label: where (SVG units), when (unix seconds) and the UTC text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub x: i32,
    pub y: i32,
    pub t: i64,
    pub utc: String,
}

/// A rendered chart, as an island's props and the re-fetch answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartView {
    pub kind: Kind,
    pub queue: Option<String>,
    pub range: String,
    pub title: String,
    /// The plot's SVG elements (plotters' output without its `<svg>` wrapper); names escaped.
    /// Left out of an island's props (see `Shown`), hence the default.
    #[serde(default)]
    pub plot: String,
    pub ticks: Vec<Tick>,
    /// One label per line, in palette order (`swatch s0`, `s1`, ...).
    pub legend: Vec<String>,
    /// Nothing recorded in the range: the chart says "no data yet".
    pub empty: bool,
    /// Why the data could not be read (Redis down), shown instead of the plot.
    pub error: Option<String>,
}

/// A chart as an island's props: everything but the plot is serialised into the page. The plot
/// is already in the server-rendered SVG, and hydration keeps that markup (`inner_html` is not
/// re-applied to server-rendered nodes), so sending it a second time in the props would only
/// double the page (86 KB for a queue page's three charts). It comes back with the first
/// re-fetch (`chart`), which carries it whole.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Shown(pub ChartView);

impl From<ChartView> for Shown {
    fn from(v: ChartView) -> Shown {
        Shown(v)
    }
}

impl Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let v = &self.0;
        let mut st = s.serialize_struct("ChartView", 8)?;
        st.serialize_field("kind", &v.kind)?;
        st.serialize_field("queue", &v.queue)?;
        st.serialize_field("range", &v.range)?;
        st.serialize_field("title", &v.title)?;
        st.serialize_field("ticks", &v.ticks)?;
        st.serialize_field("legend", &v.legend)?;
        st.serialize_field("empty", &v.empty)?;
        st.serialize_field("error", &v.error)?;
        st.end()
    }
}

/// A chart's current rendering (GET; cached per console, see `load`).
#[server(prefix = "/ui", endpoint = "chart", input = leptos::server_fn::codec::GetUrl)]
pub async fn chart(
    kind: String,
    queue: Option<String>,
    range: String,
) -> Result<ChartView, ServerFnError> {
    let console = use_context::<std::sync::Arc<crate::state::Console>>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: no Console in context"))?;
    let kind = Kind::parse(&kind).ok_or_else(|| ServerFnError::new("unknown chart"))?;
    let range = parse_range(Some(&range)).map_err(ServerFnError::new)?;
    if let Some(q) = &queue {
        engine::limits::validate_queue_name(q).map_err(|e| ServerFnError::new(e.to_string()))?;
    }
    Ok((*load::chart(&console, kind, queue.as_deref(), range).await).clone())
}

/// Formats a tick in the browser's time zone (after hydration).
#[cfg(feature = "hydrate")]
fn local_label(t: i64, range: &str) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t as f64 * 1000.0));
    if range == "7d" || range == "30d" {
        format!("{:02}-{:02}", d.get_month() + 1, d.get_date())
    } else {
        format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
    }
}

#[cfg(not(feature = "hydrate"))]
fn local_label(_t: i64, _range: &str) -> String {
    String::new()
}

/// One chart. Server-rendered complete (UTC labels); in the browser it switches the labels to
/// local time and re-fetches itself on every `stats` event of the live feed.
#[island]
pub fn LiveChart(#[prop(into)] view: Shown) -> impl IntoView {
    let data = RwSignal::new(view.0);
    let local = RwSignal::new(false);
    Effect::new(move |_| {
        local.set(true);
        crate::feed::on("stats", move |_| {
            let (kind, queue, range) =
                data.with_untracked(|v| (v.kind, v.queue.clone(), v.range.clone()));
            leptos::task::spawn_local(async move {
                if let Ok(next) = chart(kind.as_str().to_string(), queue, range).await {
                    data.set(next);
                }
            });
        });
    });
    let id = data.with_untracked(|v| {
        format!(
            "chart-{}{}",
            v.kind.as_str(),
            v.queue
                .as_deref()
                .map(|q| format!("-{}", crate::format::dom_id(q)))
                .unwrap_or_default()
        )
    });
    let viewbox = format!("0 0 {WIDTH} {HEIGHT}");
    view! {
        <figure class="chart" data-testid=id data-local=move || if local.get() { "true" } else { "false" }>
            <figcaption>
                {move || data.with(|v| v.title.clone())}
                <span class="chart-zone">
                    {move || if local.get() { " · local time" } else { " · times in UTC" }}
                </span>
            </figcaption>
            {move || data.with(|v| v.error.clone()).map(|e| view! { <p class="chart-error">{e}</p> })}
            <svg
                viewBox=viewbox.clone()
                width=WIDTH.to_string()
                height=HEIGHT.to_string()
                role="img"
                aria-label=move || data.with(|v| v.title.clone())
                data-empty=move || if data.with(|v| v.empty) { "true" } else { "false" }
            >
                <g class="plot" inner_html=move || data.with(|v| v.plot.clone())></g>
                {move || data.with(|v| {
                    let range = v.range.clone();
                    v.ticks.iter().map(|t| {
                        let label = if local.get() { local_label(t.t, &range) } else { t.utc.clone() };
                        view! {
                            <text class="tick" x=t.x.to_string() y=t.y.to_string() text-anchor="middle"
                                font-size="11" fill="#5b6470" data-t=t.t.to_string()>{label}</text>
                        }
                    }).collect_view()
                })}
                {move || data.with(|v| v.empty).then(|| view! {
                    <text class="chart-empty" x=(WIDTH / 2).to_string() y=(HEIGHT / 2).to_string()
                        text-anchor="middle" font-size="14" fill="#5b6470" data-testid="chart-empty">"no data yet"</text>
                })}
            </svg>
            <ul class="legend">
                {move || data.with(|v| v.legend.iter().enumerate().map(|(i, l)| view! {
                    <li><span class=format!("swatch s{}", i % render_palette_len())></span>{l.clone()}</li>
                }).collect_view())}
            </ul>
        </figure>
    }
}

/// How many colours the palette has (`style/main.css` has one `.swatch.sN` per colour).
pub const PALETTE: [&str; 8] = [
    "#2f6fdf", "#d64545", "#2e9d5b", "#c98a12", "#8a4fd6", "#1f9fb0", "#b0487d", "#6b7480",
];

fn render_palette_len() -> usize {
    PALETTE.len()
}

/// The `?range=` switch of a page: one link per range, the current one marked.
#[component]
pub fn RangeSwitch(base: String, current: String) -> impl IntoView {
    let sep = if base.contains('?') { '&' } else { '?' };
    view! {
        <nav class="tabs range" data-testid="range-switch">
            {RANGES.into_iter().map(|r| view! {
                <a href=crate::url::href(&format!("{base}{sep}range={r}")) class:current=r == current
                    aria-current=(r == current).then_some("page") data-testid=format!("range-{r}")>{r}</a>
            }).collect_view()}
        </nav>
    }
}
