//! `--report FILE.html`: the run as one self-contained page (inline SVG,
//! nothing fetched): events per second and latency p50/p99 per second of
//! the stream, the latency histogram, the JSON line as a table and the
//! command. Drawn only with the `report` feature (plotters); without it
//! the flag is refused up front.

use std::fs::File;
use std::path::Path;

#[cfg(feature = "report")]
use hdrhistogram::Histogram;

use super::Failure;
#[cfg(feature = "report")]
use super::series::Series;

/// Opens the report file before anything connects: a path that cannot be
/// written, or a build without the `report` feature, is a usage error.
pub(super) fn create(path: &Path) -> Result<File, Failure> {
    if !cfg!(feature = "report") {
        return Err(Failure(
            2,
            "--report: this rig-bench was built without the `report` feature \
             (cargo build --features report)"
                .into(),
        ));
    }
    File::create(path)
        .map_err(|e| Failure(2, format!("cannot write the report to {}: {e}", path.display())))
}

/// The command line as run, `--param` values hidden (they may be secrets).
pub(super) fn command_line(argv: &[String]) -> String {
    let mut out = vec!["rig-bench".to_owned()];
    let mut hide_next = false;
    for arg in argv.iter().skip(1) {
        if hide_next {
            let key = arg.split_once('=').map_or_else(|| arg.as_str(), |(k, _)| k);
            out.push(format!("{key}=..."));
        } else {
            out.push(arg.clone());
        }
        hide_next = arg == "--param";
    }
    out.join(" ")
}

/// The whole page.
#[cfg(feature = "report")]
pub(super) fn render(
    line: &serde_json::Value,
    command: &str,
    series: &Series,
    latency: &Histogram<u64>,
) -> Result<String, String> {
    use std::fmt::Write as _;

    let per_second = |f: &dyn Fn(&super::series::Second) -> f64| -> Vec<(f64, f64)> {
        (1_u32..).zip(&series.seconds).map(|(t, s)| (f64::from(t), f(s))).collect()
    };
    let end = series.seconds.len() as f64;
    let charts = [
        charts::time_chart(
            "Events per second (by the server's send time)",
            "events / s",
            &[("events", BLUE, per_second(&|s| s.events as f64))],
            end,
        )?,
        charts::time_chart(
            "Latency per second (quarter-octave buckets)",
            "ms",
            &[
                ("p50", BLUE, per_second(&|s| s.quantile_us(0.5) as f64 / 1e3)),
                ("p99", RED, per_second(&|s| s.quantile_us(0.99) as f64 / 1e3)),
            ],
            end,
        )?,
        charts::histogram_chart("Latency (all events)", latency)?,
    ];
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rig-bench</title>\
         <style>body{font-family:sans-serif;margin:16px}h1{font-size:20px}\
         .charts{display:grid;grid-template-columns:repeat(2,600px);gap:8px}\
         table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 8px}\
         pre{background:#f4f4f4;padding:8px;white-space:pre-wrap}</style></head><body>\n\
         <h1>rig-bench</h1>\n<div class=\"charts\">\n",
    );
    for chart in &charts {
        let _ = writeln!(html, "<div class=\"chart\">{chart}</div>");
    }
    html.push_str("</div>\n<h2>Summary</h2>\n<table>\n");
    if let Some(fields) = line.as_object() {
        for (key, value) in fields {
            let value = escape(&value.to_string());
            let _ = writeln!(html, "<tr><th>{}</th><td>{value}</td></tr>", escape(key));
        }
    }
    let _ = write!(
        html,
        "</table>\n<h2>Command</h2>\n<pre>{}</pre>\n</body></html>\n",
        escape(command)
    );
    Ok(html)
}

#[cfg(feature = "report")]
const BLUE: plotters::style::RGBColor = plotters::style::RGBColor(31, 119, 180);
#[cfg(feature = "report")]
const RED: plotters::style::RGBColor = plotters::style::RGBColor(214, 39, 40);

/// `text` safe inside an element.
#[cfg(feature = "report")]
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(feature = "report")]
mod charts {
    //! The three charts, drawn by plotters' SVG backend (no font files:
    //! it writes `<text>` elements the browser renders).

    use std::error::Error;

    use hdrhistogram::Histogram;
    use plotters::prelude::*;

    const SIZE: (u32, u32) = (600, 300);

    /// One line of a time chart: its name, colour and (second, value) points.
    pub(super) type Line<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

    /// Lines over seconds 0..=`end`.
    pub(super) fn time_chart(
        title: &str,
        y_desc: &str,
        lines: &[Line<'_>],
        end: f64,
    ) -> Result<String, String> {
        let mut svg = String::new();
        draw_lines(&mut svg, title, y_desc, lines, end.max(1.0))
            .map_err(|e| format!("cannot draw the chart {title:?}: {e}"))?;
        Ok(svg)
    }

    fn draw_lines(
        svg: &mut String,
        title: &str,
        y_desc: &str,
        lines: &[Line<'_>],
        end: f64,
    ) -> Result<(), Box<dyn Error>> {
        let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let top = lines.iter().flat_map(|l| l.2.iter().map(|p| p.1)).fold(0.0_f64, f64::max);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end, 0.0..(top * 1.15).max(1.0))?;
        chart
            .configure_mesh()
            .x_desc("seconds of the stream")
            .y_desc(y_desc)
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;
        for (name, color, points) in lines {
            let color = *color;
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.85)).draw()?;
        root.present()?;
        Ok(())
    }

    /// The run's latency in 1-2-5 buckets from 10 µs.
    pub(super) fn histogram_chart(title: &str, h: &Histogram<u64>) -> Result<String, String> {
        let bounds: Vec<u64> = (1..=7).flat_map(|d| [1, 2, 5].map(|m| m * 10_u64.pow(d))).collect();
        let mut counts = vec![0_u64; bounds.len()];
        // Above every bound: the last bucket.
        let last_bucket = bounds.len().saturating_sub(1);
        for v in h.iter_recorded() {
            let at = v.value_iterated_to();
            let i = bounds.iter().position(|b| at <= *b).unwrap_or(last_bucket);
            if let Some(n) = counts.get_mut(i) {
                *n += v.count_at_value();
            }
        }
        // Only the buckets from the first value to the last.
        let first = counts.iter().position(|&c| c > 0).unwrap_or(0);
        let last = counts.iter().rposition(|&c| c > 0).map_or(first, |i| i + 1);
        let bounds = bounds.get(first..last).unwrap_or_default();
        let counts = counts.get(first..last).unwrap_or_default();
        let mut svg = String::new();
        draw_bars(&mut svg, title, bounds, counts)
            .map_err(|e| format!("cannot draw the chart {title:?}: {e}"))?;
        Ok(svg)
    }

    fn draw_bars(
        svg: &mut String,
        title: &str,
        bounds: &[u64],
        counts: &[u64],
    ) -> Result<(), Box<dyn Error>> {
        let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let top = counts.iter().copied().max().unwrap_or(0) as f64;
        let n = counts.len();
        let label = |x: &f64| {
            let k = x.round() as usize;
            k.checked_sub(1).and_then(|i| bounds.get(i)).map_or_else(String::new, |&us| match us {
                0..1_000 => format!("{us}µs"),
                1_000..1_000_000 => format!("{}ms", us / 1_000),
                _ => format!("{}s", us / 1_000_000),
            })
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..n as f64, 0.0..(top * 1.1).max(1.0))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n + 1)
            .x_label_formatter(&label)
            .x_desc("upper bound of the bucket")
            .y_desc("events")
            .draw()?;
        let bars = counts.iter().enumerate().map(|(i, &c)| {
            let x = i as f64;
            Rectangle::new([(x + 0.08, 0.0), (x + 0.92, c as f64)], RGBColor(31, 119, 180).filled())
        });
        chart.draw_series(bars)?;
        root.present()?;
        Ok(())
    }
}
