//! The HTML report (`--report FILE.html`): one self-contained file, no
//! script and nothing fetched, so it opens offline in any browser.
//!
//! ```text
//!   Report ─► summary table + the command that reproduces the run (seed, config)
//!         ─► series.per_second ─► 4 time charts (faults marked) ─┐
//!         ─► series.latency_us, time_to_recover_us ─► 2 histograms ┴► inline <svg>
//! ```

mod charts;
mod page;

use plotters::style::RGBColor;

use crate::report::Report;
use charts::{Line, histogram_chart, time_chart};

/// The colours of the lines (the faults have their own, see [`charts`]).
const BLUE: RGBColor = RGBColor(31, 119, 180);
const RED: RGBColor = RGBColor(214, 39, 40);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const TEAL: RGBColor = RGBColor(23, 190, 207);

/// The whole page for `report`.
pub(crate) fn render(report: &Report) -> Result<String, String> {
    let series = &report.series;
    let samples = &series.per_second;
    let end_s = samples.last().map_or(0.0, |s| s.t_s as f64).max(report.config.duration_s as f64);
    let points = |value: fn(&crate::series::Sample) -> f64| -> Vec<(f64, f64)> {
        samples.iter().map(|s| (s.t_s as f64, value(s))).collect()
    };
    let line = |name, color, value| Line { name, color, points: points(value) };
    let faults = &series.faults;
    let charts = [
        time_chart(
            "Events delivered per second",
            "events / s",
            &[line("delivered", BLUE, |s| s.delivered as f64)],
            faults,
            end_s,
        )?,
        time_chart(
            "End-to-end latency",
            "ms",
            &[
                line("p50", BLUE, |s| s.latency_p50_us as f64 / 1e3),
                line("p99", RED, |s| s.latency_p99_us as f64 / 1e3),
            ],
            faults,
            end_s,
        )?,
        time_chart(
            "Reconnects per second",
            "reconnects / s",
            &[line("reconnects", ORANGE, |s| s.reconnects as f64)],
            faults,
            end_s,
        )?,
        time_chart(
            "Open connections",
            "sockets",
            &[line("open", GREEN, |s| s.open_connections as f64)],
            faults,
            end_s,
        )?,
        histogram_chart("Latency (all events)", &series.latency_us, BLUE)?,
        histogram_chart(
            "Time to recover (per channel, per fault)",
            &series.time_to_recover_us,
            TEAL,
        )?,
    ];
    Ok(page::page(report, &charts))
}
