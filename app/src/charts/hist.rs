//! The Metrics page's per-function duration histogram: one bar per fixed duration bucket, drawn
//! as plain SVG `<rect>`s (no plotters needed for a sparkline; heights are relative to the
//! function's fullest bucket). Each bar has a `<title>` with its bucket and count.

use leptos::prelude::*;

const W: u32 = 160;
const H: u32 = 28;

/// `counts[i]` jobs took at most `bounds[i]` seconds (the last bucket is open-ended).
#[component]
pub fn Histogram(counts: Vec<u64>, bounds: Vec<f64>) -> impl IntoView {
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = counts.len().max(1) as u32;
    let bar = (W / n).max(1);
    let bars = counts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let h = if c == 0 {
                0
            } else {
                ((c as f64 / max) * (H - 2) as f64).ceil() as u32
            };
            let upto = bounds
                .get(i)
                .map(|b| format!("≤ {}", secs(*b)))
                .unwrap_or_else(|| "longer".to_string());
            view! {
                <rect x=(i as u32 * bar).to_string() y=(H - h).to_string()
                    width=bar.saturating_sub(1).max(1).to_string() height=h.to_string() fill="#2f6fdf">
                    <title>{format!("{upto}: {}", crate::format::count(c))}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <svg class="hist" viewBox=format!("0 0 {W} {H}") width=W.to_string() height=H.to_string()
            role="img" aria-label="Duration histogram" data-testid="histogram">
            <line x1="0" y1=H.to_string() x2=W.to_string() y2=H.to_string() stroke="#dde1e6"/>
            {bars}
        </svg>
    }
}

/// A duration for the Metrics page: milliseconds below a second.
pub fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        crate::format::duration(s)
    }
}
