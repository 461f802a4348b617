//! `rig-stress --report FILE.html`: the page holds six charts whose SVGs
//! parse as XML, and headless Chromium draws them (a screenshot with
//! coloured pixels in every chart); an unwritable path exits 2 before any
//! connection.
//!
//! Chromium (Debian's `chromium`) is optional here: without it the
//! screenshot half is skipped with a printed reason, unless
//! `RIG_REQUIRE_CHROMIUM` is set (CI sets it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests fail by panicking and say why they skip"
)]

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use util::stress;

/// The browser window, as the README's screenshot was taken.
const WINDOW: (u32, u32) = (1280, 2000);

fn scratch(name: &str, ext: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    dir.join(format!("{name}-{}.{ext}", std::process::id()))
}

#[test]
fn an_unwritable_report_path_exits_2_before_any_connection() {
    let out = stress(&["--clients", "2", "--report", "/nonexistent-rig-dir/r.html"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the report to /nonexistent-rig-dir/r.html"),
        "the reason is given: {stderr}"
    );
    // The run's first line comes before the server and the clients start.
    assert!(!stderr.contains("seed="), "nothing ran: {stderr}");
}

#[test]
fn the_html_report_draws_six_charts_in_headless_chromium() {
    let (json, html) = (scratch("charts", "json"), scratch("charts", "html"));
    let args = [
        "--clients",
        "10",
        "--topics",
        "1",
        "--rate",
        "20",
        "--duration",
        "5",
        "--reset-every",
        "1500",
        "--stall-every",
        "1200",
        "--stall-for",
        "300",
        "--latency",
        "1",
        "--seed",
        "5",
        "--json",
        json.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
    ];
    let out = stress(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    // The JSON report holds the series the charts are drawn from.
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let per_second = r["series"]["per_second"].as_array().unwrap();
    assert!(per_second.len() >= 4, "{r:#}");
    for key in
        ["t_s", "delivered", "latency_p50_us", "latency_p99_us", "reconnects", "open_connections"]
    {
        assert!(per_second[0][key].is_u64(), "{key} in {r:#}");
    }
    assert!(per_second.iter().any(|s| s["delivered"].as_u64().unwrap() > 0), "{r:#}");
    let kinds: Vec<&str> = r["series"]["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"reset") && kinds.contains(&"stall"), "{kinds:?}");
    assert!(!r["series"]["latency_us"].as_array().unwrap().is_empty(), "{r:#}");

    // Six SVGs, each well-formed XML with its title in a <text>.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script") && !page.contains("<link"), "nothing to fetch");
    let svgs = svgs(&page);
    assert_eq!(svgs.len(), 6, "{page}");
    for (svg, title) in svgs.iter().zip([
        "Events delivered",
        "End-to-end latency",
        "Reconnects",
        "Open connections",
        "Latency",
        "Time to recover",
    ]) {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let texts: Vec<&str> =
            doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
        assert!(texts.iter().any(|t| t.trim().starts_with(title)), "{title} in {texts:?}");
    }
    assert!(page.contains("rig-stress --seed 5 --clients 10"), "the command to reproduce");

    // Drawn, as a browser shows it.
    let Some(png) = screenshot(&html) else { return };
    let (width, pixels) = decode_rgb(&png);
    for row in 0..3 {
        for col in 0..2 {
            let coloured = coloured_pixels(&pixels, width, chart_plot_area(row, col));
            assert!(coloured > 200, "chart {row},{col} looks blank: {coloured} coloured pixels");
        }
    }
}

/// Every `<svg ...>...</svg>` of the page.
fn svgs(page: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("a closed svg") + start + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

/// The inside of chart (`row`, `col`) in the screenshot, as (x, y, w, h):
/// the page has a 16 px margin, a title and a verdict line (about 82 px),
/// then 600×300 charts in two columns, 8 px apart.
fn chart_plot_area(row: u32, col: u32) -> (u32, u32, u32, u32) {
    let (x, y) = (16 + col * 608, 98 + row * 308);
    (x + 80, y + 40, 480, 200)
}

/// Pixels of a clear colour (lines, bars, fault bands), not white, grey or black.
fn coloured_pixels(pixels: &[[u8; 3]], width: u32, (x, y, w, h): (u32, u32, u32, u32)) -> usize {
    let mut n = 0;
    for row in y..y + h {
        for col in x..x + w {
            let Some(&[r, g, b]) = pixels.get((row * width + col) as usize) else { continue };
            let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
            n += usize::from(hi - lo > 60);
        }
    }
    n
}

fn decode_rgb(path: &Path) -> (u32, Vec<[u8; 3]>) {
    let mut decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    assert!(step >= 3, "a colour screenshot: {:?}", info.color_type);
    let pixels = buf[..info.buffer_size()].chunks_exact(step).map(|p| [p[0], p[1], p[2]]).collect();
    assert_eq!(info.width, WINDOW.0, "the window's width");
    (info.width, pixels)
}

/// Chromium's screenshot of `html`, or `None` (skipped) without Chromium.
fn screenshot(html: &Path) -> Option<PathBuf> {
    let required = std::env::var_os("RIG_REQUIRE_CHROMIUM").is_some();
    let png = scratch("charts", "png");
    let profile = tempfile::tempdir().unwrap();
    let status = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .arg(format!("file://{}", html.display()))
        .output();
    match status {
        Ok(out) if out.status.success() && png.exists() => Some(png),
        Ok(out) => panic!("chromium failed: {out:?}"),
        Err(e) if !required => {
            eprintln!(
                "skipped the screenshot: cannot run chromium ({e}); set RIG_REQUIRE_CHROMIUM to fail instead"
            );
            None
        }
        Err(e) => panic!("RIG_REQUIRE_CHROMIUM is set and chromium cannot run: {e}"),
    }
}
