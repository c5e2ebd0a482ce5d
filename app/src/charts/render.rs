//! (ssr) One chart from series points: the plot (grid, y labels, one polyline per line with a
//! vertex per bucket) by plotters' SVG backend, the x ticks by chrono in UTC. No font files:
//! plotters is built without `ttf`, so text is laid out with its naive metrics and written as
//! SVG `<text>` (plotters escapes it; the names in `ChartView` are escaped by Leptos).
//!
//! A `None` point (a gauge never sampled) breaks the line; counters come with 0 for empty
//! buckets, so their polyline has exactly one vertex per bucket.

use chrono::{DateTime, Utc};
use plotters::prelude::*;

use super::{ChartView, Kind, Tick, HEIGHT, PALETTE, WIDTH};

/// What the y axis counts (its label format).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    Count,
    Seconds,
    /// 0..=1, shown as a percentage.
    Share,
}

/// One line of a chart.
pub struct Line<'a> {
    pub label: String,
    /// `(bucket start, value)`, oldest first, one per bucket.
    pub points: &'a [(i64, Option<f64>)],
}

/// Everything about a chart except its data.
pub struct Spec {
    pub kind: Kind,
    pub queue: Option<String>,
    pub range: String,
    pub title: String,
    pub unit: Unit,
    /// Bucket width in seconds.
    pub step_s: i64,
}

const MARGIN: u32 = 8;
const Y_LABELS: u32 = 44;
const X_LABELS: u32 = 18;

/// Renders `lines` under `spec`. Pure and synchronous (about a millisecond; see the tests).
pub fn render(spec: &Spec, lines: &[Line<'_>]) -> ChartView {
    let values = || {
        lines
            .iter()
            .flat_map(|l| l.points.iter().filter_map(|p| p.1))
    };
    let empty = values().all(|v| v == 0.0);
    let (from, to) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
    let now = engine::time::now() as i64;
    let (from, to) = if from > to {
        (now - spec.step_s * 60, now)
    } else {
        (from, to.max(from + 1))
    };
    let top = match spec.unit {
        Unit::Share => 1.0,
        _ => nice_top(values().fold(0.0, f64::max)),
    };
    let mut svg = String::new();
    // The data lines, written here rather than by plotters' LineSeries: a third of the cost
    // for the 8 × 1,440-point charts (bench in the tests) and one known shape per line.
    let vertices: usize = lines.iter().map(|l| l.points.len()).sum();
    let mut data = String::with_capacity(vertices * 9 + lines.len() * 120);
    let mut ticks = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        // x is seconds since `from` (plotters' i64 axis overflows without x labels).
        if let Ok(mut chart) = ChartBuilder::on(&root)
            .margin(MARGIN)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(0f64..(to - from) as f64, 0f64..top)
        {
            let unit = spec.unit;
            let _ = chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_labels(5)
                .y_label_formatter(&|v| y_label(*v, unit))
                .y_label_style(
                    ("sans-serif", 13)
                        .into_font()
                        .color(&RGBColor(0x5b, 0x64, 0x70)),
                )
                .light_line_style(RGBColor(0xee, 0xf0, 0xf3))
                .bold_line_style(RGBColor(0xdd, 0xe1, 0xe6))
                .axis_style(RGBColor(0xaa, 0xb2, 0xbd))
                .draw();
            let (xs, ys) = chart.plotting_area().get_pixel_range();
            let span = (to - from) as f64;
            let px = |t: i64| {
                xs.start as f64 + (t - from) as f64 / span * (xs.end - xs.start - 1) as f64
            };
            let py =
                |v: f64| ys.end as f64 - 1.0 - v.min(top) / top * (ys.end - ys.start - 1) as f64;
            for (i, line) in lines.iter().enumerate() {
                polylines(&mut data, PALETTE[i % PALETTE.len()], line.points, &px, &py);
            }
            for t in tick_times(from, to, &spec.range) {
                let (x, _) = chart.backend_coord(&((t - from) as f64, 0.0));
                ticks.push(Tick {
                    x,
                    y: ys.end + 14,
                    t,
                    utc: utc_label(t, &spec.range),
                });
            }
        }
        let _ = root.present();
    }
    ChartView {
        kind: spec.kind,
        queue: spec.queue.clone(),
        range: spec.range.clone(),
        title: spec.title.clone(),
        plot: format!("{}\n{data}", inner(&svg)),
        ticks,
        legend: lines.iter().map(|l| l.label.clone()).collect(),
        empty,
        error: None,
    }
}

/// One `<polyline class="series">` per run of sampled points (a `None` breaks the line), one
/// vertex per bucket, in whole SVG units.
fn polylines(
    out: &mut String,
    color: &str,
    points: &[(i64, Option<f64>)],
    px: &impl Fn(i64) -> f64,
    py: &impl Fn(f64) -> f64,
) {
    for segment in points.split(|p| p.1.is_none()) {
        if segment.is_empty() {
            continue;
        }
        out.push_str(r#"<polyline class="series" fill="none" stroke=""#);
        out.push_str(color);
        out.push_str(r#"" stroke-width="2" stroke-linejoin="round" points=""#);
        for &(t, v) in segment {
            push_coord(out, px(t));
            out.push(',');
            push_coord(out, py(v.unwrap_or(0.0)));
            out.push(' ');
        }
        out.push_str("\"/>\n");
    }
}

/// A pixel coordinate as a whole number: `fmt` costs ~10× more and dominated the render time.
fn push_coord(out: &mut String, v: f64) {
    let mut n = v.round().clamp(0.0, 99_999.0) as u32;
    let mut buf = [0u8; 5];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// plotters writes a whole document; the island supplies its own `<svg>`.
fn inner(svg: &str) -> &str {
    let start = svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let end = svg.rfind("</svg>").unwrap_or(svg.len()).max(start);
    svg[start..end].trim()
}

/// A round upper bound ≥ `max` (1, 2, 5 × 10^n), at least 1.
fn nice_top(max: f64) -> f64 {
    if max.is_nan() || max <= 1.0 {
        return 1.0;
    }
    let exp = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * exp)
        .find(|v| *v >= max)
        .unwrap_or(max)
}

fn y_label(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Share => format!("{:.0}%", v * 100.0),
        Unit::Seconds if v >= 3600.0 => format!("{:.1}h", v / 3600.0),
        Unit::Seconds if v >= 60.0 => format!("{:.0}m", v / 60.0),
        // Small axes (top = 1) have half steps: 0.5 must not print as 0.
        Unit::Seconds if v.fract() != 0.0 => format!("{v:.1}s"),
        Unit::Seconds => format!("{v:.0}s"),
        Unit::Count if v >= 1e6 => format!("{:.1}M", v / 1e6),
        Unit::Count if v >= 1e3 => format!("{:.1}k", v / 1e3),
        Unit::Count if v.fract() != 0.0 => format!("{v:.1}"),
        Unit::Count => format!("{v:.0}"),
    }
}

/// Tick spacing per range: 10 min, 4 h, 1 day, 5 days; aligned to UTC multiples.
fn tick_times(from: i64, to: i64, range: &str) -> Vec<i64> {
    let every = match range {
        "1h" => 600,
        "24h" => 4 * 3600,
        "7d" => 86_400,
        _ => 5 * 86_400,
    };
    let first = (from + every - 1).div_euclid(every) * every;
    (0..)
        .map(|i| first + i * every)
        .take_while(|t| *t <= to)
        .take(12)
        .collect()
}

fn utc_label(t: i64, range: &str) -> String {
    let Some(at) = DateTime::<Utc>::from_timestamp(t, 0) else {
        return String::new();
    };
    if range == "7d" || range == "30d" {
        at.format("%m-%d").to_string()
    } else {
        at.format("%H:%M").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(range: &str, step: i64) -> Spec {
        Spec {
            kind: Kind::Throughput,
            queue: Some("<b>\"q&".into()),
            range: range.into(),
            title: "Jobs per minute".into(),
            unit: Unit::Count,
            step_s: step,
        }
    }

    fn vertices(plot: &str) -> Vec<usize> {
        plot.split("<polyline class=\"series\"")
            .skip(1)
            .map(|p| {
                let pts = p.split("points=\"").nth(1).unwrap_or("");
                let pts = &pts[..pts.find('"').unwrap_or(0)];
                pts.split_whitespace().count()
            })
            .collect()
    }

    #[test]
    fn one_vertex_per_bucket_and_a_break_at_unsampled_gauges() {
        let t0 = 1_764_720_000;
        let finished: Vec<_> = (0..60)
            .map(|i| (t0 + i * 60, Some((i % 7) as f64)))
            .collect();
        let failed: Vec<_> = (0..60)
            .map(|i| (t0 + i * 60, Some((i % 2) as f64)))
            .collect();
        let lines = [
            Line {
                label: "finished".into(),
                points: &finished,
            },
            Line {
                label: "failed".into(),
                points: &failed,
            },
        ];
        let v = render(&spec("1h", 60), &lines);
        assert_eq!(vertices(&v.plot), vec![60, 60], "{}", v.plot);
        assert!(!v.empty);
        assert_eq!(v.ticks.len(), 6, "a tick every 10 minutes: {:?}", v.ticks);
        assert_eq!(v.ticks[0].utc, "00:00");
        assert!(v.ticks.windows(2).all(|w| w[0].x < w[1].x));

        let mut gauge = finished.clone();
        gauge[10].1 = None;
        gauge[11].1 = None;
        let v = render(
            &spec("1h", 60),
            &[Line {
                label: "depth".into(),
                points: &gauge,
            }],
        );
        assert_eq!(vertices(&v.plot), vec![10, 48]);
    }

    #[test]
    fn empty_series_say_so_and_still_draw_axes() {
        let zeros: Vec<_> = (0..24).map(|i| (i * 3600, Some(0.0))).collect();
        let v = render(
            &spec("24h", 3600),
            &[Line {
                label: "x".into(),
                points: &zeros,
            }],
        );
        assert!(v.empty);
        let none: Vec<(i64, Option<f64>)> = (0..24).map(|i| (i * 3600, None)).collect();
        let v = render(
            &spec("24h", 3600),
            &[Line {
                label: "x".into(),
                points: &none,
            }],
        );
        assert!(v.empty && vertices(&v.plot).is_empty() && v.plot.contains("<text"));
    }

    #[test]
    fn hostile_names_are_escaped_in_the_view() {
        let pts: Vec<_> = (0..5).map(|i| (i * 60, Some(1.0))).collect();
        let evil = "<script>alert(1)</script>\"'&";
        let v = render(
            &spec("1h", 60),
            &[Line {
                label: evil.into(),
                points: &pts,
            }],
        );
        // The plot never contains names; legend and title go through Leptos' escaping.
        assert!(!v.plot.contains("<script"));
        use crate::charts::LiveChart;
        use leptos::prelude::*;
        let html = Owner::new().with(|| view! { <LiveChart view=v/> }.to_html());
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.contains("</span>&lt;script&gt;"),
            "the legend names the line: {html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn the_plot_is_sent_once() {
        let pts: Vec<_> = (0..60).map(|i| (i * 60, Some((i % 7) as f64))).collect();
        let v = render(
            &spec("1h", 60),
            &[Line {
                label: "default".into(),
                points: &pts,
            }],
        );
        assert!(v.plot.len() > 1000, "a real plot: {}", v.plot.len());
        use crate::charts::{ChartView, LiveChart, Shown};
        use leptos::prelude::*;
        let html = Owner::new().with(|| view! { <LiveChart view=v.clone()/> }.to_html());
        // Rendered once, raw, inside the SVG; the island's props carry the rest only.
        assert_eq!(html.matches(v.plot.as_str()).count(), 1, "{html}");
        let props = html
            .split("data-props=\"")
            .nth(1)
            .and_then(|p| p.split('"').next())
            .expect("the island's props are in the page");
        assert!(props.len() < 2000 && !props.contains("plot"), "{props}");
        // What the browser gets back from the props: everything but the plot.
        let back: ChartView =
            serde_json::from_str(&serde_json::to_string(&Shown(v.clone())).unwrap()).unwrap();
        assert_eq!(back.plot, "");
        assert_eq!(
            ChartView {
                plot: v.plot.clone(),
                ..back
            },
            v
        );
    }

    /// The render-cost benchmark (`bench/charts.sh` runs it in release): prints the time per
    /// render of the charts the console draws, from an empty axis to the largest (24 hours of
    /// minute buckets, 8 lines), and their sizes. Speed is a benchmark figure, not a test verdict.
    #[test]
    #[ignore = "benchmark: bench/charts.sh"]
    fn render_cost() {
        let cases: [(&str, &str, i64, usize, usize); 4] = [
            ("axes only (no data)", "30d", 3600, 0, 0),
            ("30 days, hourly, 2 lines (throughput)", "30d", 3600, 720, 2),
            (
                "30 days, hourly, 8 lines (depth per queue)",
                "30d",
                3600,
                720,
                8,
            ),
            (
                "24 hours, per minute, 8 lines (the largest)",
                "24h",
                60,
                1440,
                8,
            ),
        ];
        println!("| chart | vertices | time per render | SVG bytes | budget 2 ms |");
        println!("|---|---:|---:|---:|---:|");
        for (name, range, step, n, lines) in cases {
            let pts: Vec<_> = (0..n as i64)
                .map(|i| (i * step, Some((i * 37 % 101) as f64)))
                .collect();
            let lines: Vec<_> = (0..lines)
                .map(|i| Line {
                    label: format!("q{i}"),
                    points: &pts,
                })
                .collect();
            let s = spec(range, step);
            let bytes = render(&s, &lines).plot.len();
            let runs = 50;
            let start = std::time::Instant::now();
            for _ in 0..runs {
                std::hint::black_box(render(&s, &lines));
            }
            let each = start.elapsed() / runs;
            let ms = each.as_secs_f64() * 1000.0;
            println!(
                "| {name} | {} | {ms:.3} ms | {bytes} | {:.0}x under |",
                n * lines.len(),
                2.0 / ms
            );
        }
    }
}
