//! The page around the charts: title, verdict, summary table, the command
//! that reproduces the run, the configuration as JSON.

use std::fmt::Write as _;

use crate::flags::Config;
use crate::report::Report;
use crate::report_html::charts::human_us;

const STYLE: &str = "body{font-family:sans-serif;margin:16px;color:#222}\
    h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:16px 0 6px}\
    .charts{display:grid;grid-template-columns:repeat(2,600px);gap:8px}\
    table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\
    td.n{text-align:right}pre{background:#f4f4f4;padding:8px;font-size:12px;white-space:pre-wrap}\
    .ok{color:#2c7a2c}.bad{color:#b00}";

/// The whole HTML document: `charts` are complete `<svg>` elements.
pub(crate) fn page(report: &Report, charts: &[String]) -> String {
    let mut html = String::with_capacity(charts.iter().map(String::len).sum::<usize>() + 8192);
    let c = &report.config;
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>rig-stress seed {seed}</title><style>{STYLE}</style></head><body>\n\
         <h1>rig-stress: {clients} clients &times; {topics} topics, {duration}s, seed {seed}</h1>\n",
        seed = report.seed,
        clients = c.clients,
        topics = c.topics,
        duration = c.duration_s,
    );
    if report.violations.is_empty() {
        html.push_str("<p class=\"ok\">Every invariant held.</p>\n");
    } else {
        html.push_str("<p class=\"bad\">Violations:</p><ul class=\"bad\">\n");
        for violation in &report.violations {
            let _ = writeln!(html, "<li>{}</li>", escape(violation));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("<div class=\"charts\">\n");
    for chart in charts {
        html.push_str("<div class=\"chart\">");
        html.push_str(chart);
        html.push_str("</div>\n");
    }
    html.push_str("</div>\n<h2>Summary</h2>\n<table>\n");
    for (name, value) in summary(report) {
        let _ = writeln!(html, "<tr><th>{}</th><td class=\"n\">{}</td></tr>", name, escape(&value));
    }
    html.push_str("</table>\n<h2>Reproduce</h2>\n<pre>");
    html.push_str(&escape(&command_line(c)));
    html.push_str("</pre>\n<h2>Configuration</h2>\n<pre>");
    let config = serde_json::to_string_pretty(c).unwrap_or_else(|e| format!("(not encoded: {e})"));
    html.push_str(&escape(&config));
    html.push_str("</pre>\n</body></html>\n");
    html
}

/// The rows of the summary table.
fn summary(r: &Report) -> Vec<(&'static str, String)> {
    let (e, p, f) = (&r.events, &r.pushes, &r.faults);
    let (l, t) = (&r.latency_us, &r.time_to_recover_us);
    vec![
        ("mode", format!("{:?}{}", r.mode, if r.proxy_used { ", through the proxy" } else { "" })),
        (
            "wall time",
            format!("{:.1}s{}", r.wall_s, if r.interrupted { " (interrupted)" } else { "" }),
        ),
        (
            "faults: resets / stalls / restarts / skipped",
            format!("{} / {} / {} / {}", f.resets, f.stalls, f.restarts, f.skipped),
        ),
        ("events expected / delivered", format!("{} / {}", e.expected, e.delivered)),
        (
            "events lost / dropped / cut by a fault",
            format!("{} / {} / {}", e.lost, e.dropped, e.cut_by_fault),
        ),
        (
            "events duplicated / reordered / stale",
            format!("{} / {} / {}", e.duplicated, e.reordered, e.stale),
        ),
        (
            "pushes sent / acked / lost / timeouts",
            format!("{} / {} / {} / {}", p.sent, p.acked, p.lost, p.timeouts),
        ),
        (
            "channels / never joined / unrecovered",
            format!(
                "{} / {} / {}",
                r.channels.total, r.channels.never_joined, r.channels.unrecovered
            ),
        ),
        (
            "connections / reconnects / heartbeat timeouts",
            format!("{} / {} / {}", r.connections, r.reconnects, r.heartbeat_timeouts),
        ),
        (
            "latency p50 / p99 / p99.9 / max",
            format!(
                "{} / {} / {} / {}",
                human_us(l.p50),
                human_us(l.p99),
                human_us(l.p999),
                human_us(l.max)
            ),
        ),
        (
            "time to recover p50 / p99 / max (count)",
            format!(
                "{} / {} / {} ({})",
                human_us(t.p50),
                human_us(t.p99),
                human_us(t.max),
                t.count
            ),
        ),
        (
            "peak RSS (host / clients)",
            format!("{} kB / {} kB", r.resources.peak_rss_kb, r.resources.clients_peak_rss_kb),
        ),
        (
            "CPU (host / clients / engine threads)",
            format!(
                "{}% / {}% / {}%",
                r.resources.cpu_pct, r.resources.clients_cpu_pct, r.resources.engine_cpu_pct
            ),
        ),
    ]
}

/// The rig-stress command that runs the same configuration and schedule.
pub(crate) fn command_line(c: &Config) -> String {
    let mut line = format!(
        "rig-stress --seed {} --clients {} --topics {} --rate {} --push-rate {} --duration {} \
         --latency {} --jitter {} --loss {} --reset-every {} --stall-every {} --stall-for {} \
         --restart-server-every {} --restart-down {} --settle {} --ramp {}",
        c.seed,
        c.clients,
        c.topics,
        c.rate,
        c.push_rate,
        c.duration_s,
        c.latency_ms,
        c.jitter_ms,
        c.loss_pct,
        c.reset_every_ms,
        c.stall_every_ms,
        c.stall_for_ms,
        c.restart_server_every_ms,
        c.restart_down_ms,
        c.settle_s,
        c.ramp_s,
    );
    if let Some(dir) = &c.outbox_dir {
        let _ = write!(line, " --outbox-dir {}", dir.display());
    }
    line
}

/// `text` safe inside an element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use argh::FromArgs as _;

    use super::*;
    use crate::flags::Flags;

    #[test]
    fn the_command_line_parses_back_to_the_same_config() {
        let args = ["--seed", "7", "--clients", "3", "--reset-every", "900", "--loss", "2"];
        let config =
            Config::from_flags(&Flags::from_args(&["rig-stress"], &args).unwrap(), 0).unwrap();
        let line = command_line(&config);
        let words: Vec<&str> = line.split(' ').skip(1).collect();
        let again =
            Config::from_flags(&Flags::from_args(&["rig-stress"], &words).unwrap(), 1).unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
