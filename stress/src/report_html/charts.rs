//! The SVG charts of the HTML report, drawn by plotters' SVG backend:
//! time series with the faults marked on the time axis, and histograms of
//! log-spaced buckets.

use std::error::Error;
use std::iter::once;

use plotters::prelude::*;

use crate::series::{Bucket, FaultMark};

/// Every chart's size in pixels (two fit side by side in a 1280 px window).
const SIZE: (u32, u32) = (600, 300);

/// A line of a time chart.
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) name: &'static str,
    pub(crate) color: RGBColor,
    pub(crate) points: Vec<(f64, f64)>,
}

/// How a fault kind is drawn, in the order of the legend.
const FAULT_COLORS: [(&str, RGBColor); 4] = [
    ("reset", RGBColor(214, 39, 40)),
    ("stall", RGBColor(255, 127, 14)),
    ("restart", RGBColor(148, 103, 189)),
    ("loss", RGBColor(127, 127, 127)),
];

fn fault_color(kind: &str) -> RGBColor {
    FAULT_COLORS.iter().find(|(k, _)| *k == kind).map_or(BLACK, |(_, c)| *c)
}

/// A time chart from 0 to `end_s` seconds: the faults (a line at a point
/// fault, a shaded band over one that lasts), then `lines` over them.
pub(crate) fn time_chart(
    title: &str,
    y_desc: &str,
    lines: &[Line],
    faults: &[FaultMark],
    end_s: f64,
) -> Result<String, String> {
    let mut svg = String::new();
    draw_time_chart(&mut svg, title, y_desc, lines, faults, end_s.max(1.0))
        .map_err(|e| format!("cannot draw the chart {title:?}: {e}"))?;
    Ok(svg)
}

fn draw_time_chart(
    svg: &mut String,
    title: &str,
    y_desc: &str,
    lines: &[Line],
    faults: &[FaultMark],
    end_s: f64,
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let top = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(0.0_f64, f64::max);
    let y_max = (top * 1.15).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end_s, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the faulty phase began")
        .y_desc(y_desc)
        .y_label_formatter(&|y| trim(*y))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    for (kind, color) in FAULT_COLORS {
        let mut labelled = false;
        for fault in faults.iter().filter(|f| f.kind == kind) {
            let at = fault.at_s.min(end_s);
            let drawn = match fault.until_s {
                Some(until) => {
                    let until = until.min(end_s).max(at + end_s / 300.0);
                    let band =
                        Rectangle::new([(at, 0.0), (until, y_max)], color.mix(0.25).filled());
                    chart.draw_series(once(band))?
                }
                None => {
                    let mark =
                        PathElement::new(vec![(at, 0.0), (at, y_max)], color.stroke_width(2));
                    chart.draw_series(once(mark))?
                }
            };
            if !labelled {
                labelled = true;
                drawn.label(kind).legend(move |(x, y)| {
                    Rectangle::new(
                        [(x, y - 5), (x + 16, y + 5)],
                        fault_color(kind).mix(0.6).filled(),
                    )
                });
            }
        }
    }
    for line in lines {
        let color = line.color;
        chart
            .draw_series(LineSeries::new(line.points.iter().copied(), color.stroke_width(2)))?
            .label(line.name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .draw()?;
    root.present()?;
    Ok(())
}

/// A histogram of `buckets`, one bar each, labelled by upper bound.
pub(crate) fn histogram_chart(
    title: &str,
    buckets: &[Bucket],
    color: RGBColor,
) -> Result<String, String> {
    let mut svg = String::new();
    draw_histogram(&mut svg, title, buckets, color)
        .map_err(|e| format!("cannot draw the chart {title:?}: {e}"))?;
    Ok(svg)
}

fn draw_histogram(
    svg: &mut String,
    title: &str,
    buckets: &[Bucket],
    color: RGBColor,
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let top = buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let y_max = (top as f64 * 1.1).max(1.0);
    let n = buckets.len().max(1);
    let bounds: Vec<u64> = buckets.iter().map(|b| b.le_us).collect();
    // A tick at k sits between bar k-1 and bar k: bar k-1's upper bound.
    let label = move |x: &f64| {
        let k = x.round() as usize;
        match k.checked_sub(1).and_then(|i| bounds.get(i)) {
            Some(&le) if (x - x.round()).abs() < 1e-6 => human_us(le),
            _ => String::new(),
        }
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n as f64, 0.0..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&label)
        .x_desc("upper bound of the bucket")
        .y_desc("count")
        .y_label_formatter(&|y| trim(*y))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    let bars = buckets.iter().enumerate().map(|(i, b)| {
        let x = i as f64;
        Rectangle::new([(x + 0.08, 0.0), (x + 0.92, b.count as f64)], color.filled())
    });
    chart.draw_series(bars)?;
    root.present()?;
    Ok(())
}

/// `us` microseconds, short: 500µs, 20ms, 1.5s.
pub(crate) fn human_us(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..1_000_000 => format!("{}ms", trim(us as f64 / 1e3)),
        _ => format!("{}s", trim(us as f64 / 1e6)),
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    match s.strip_suffix(".0") {
        Some(whole) => whole.to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_short() {
        assert_eq!(human_us(500), "500µs");
        assert_eq!(human_us(20_000), "20ms");
        assert_eq!(human_us(1_500_000), "1.5s");
    }

    #[test]
    fn a_chart_is_one_svg_with_its_title_and_fault_legend() {
        let line = Line { name: "delivered", color: BLUE, points: vec![(1.0, 10.0), (2.0, 20.0)] };
        let faults = [FaultMark { kind: "stall", at_s: 0.5, until_s: Some(0.8) }];
        let svg = time_chart("events per second", "events", &[line], &faults, 2.0).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
        assert!(svg.contains("\nevents per second\n") && svg.contains("\nstall\n"), "{svg}");
        let bars = [Bucket { le_us: 100, count: 3 }, Bucket { le_us: 200, count: 1 }];
        let svg = histogram_chart("latency", &bars, BLUE).unwrap();
        assert!(svg.contains("\n100µs\n") && svg.contains("\n200µs\n"), "{svg}");
    }
}
