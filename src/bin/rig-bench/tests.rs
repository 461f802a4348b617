//! Unit tests of `rig-bench`: the recorder, the flag checks, /proc.

use super::line::vmhwm_kb;
use super::*;

#[test]
fn latencies_keep_their_range_and_missing_seqs_are_gaps() {
    let clock = Clock::real();
    let mut recorded = Recorded::new();
    for (seq, latency) in [(1, 0), (2, 40), (4, 1_500), (5, 250_000), (3, 7)] {
        recorded.record(seq, latency);
    }
    recorded.finish(8, clock.now());
    assert_eq!(recorded.events, 5);
    // 3 came late (not a gap, not counted twice); 6, 7 and 8 never came.
    assert_eq!(recorded.gaps, 1 + 3);
    let h = &recorded.latency_us;
    assert_eq!(h.min(), 0);
    assert!(h.max().abs_diff(250_000) <= 250, "max {}", h.max());
    assert!(h.value_at_quantile(0.5).abs_diff(40) <= 1, "p50 {}", h.value_at_quantile(0.5));
    recorded.record(9, MAX_LATENCY_US * 10);
    assert!(recorded.latency_us.max() >= MAX_LATENCY_US * 999 / 1000);
}

#[test]
fn load_flags_are_checked() {
    let args = |rate, burst, count| Args {
        url: String::new(),
        topic: String::new(),
        rate,
        burst,
        count,
        queue: None,
        pace: None,
        param: Vec::new(),
        token_env: None,
        consumer: "on".into(),
        idle: "park".into(),
        report: None,
        metrics: None,
    };
    assert!(matches!(
        Load::from_args(&args(Some(5), false, Some(10))),
        Ok(Load::Rate { rate: 5, count: 10 })
    ));
    assert!(matches!(Load::from_args(&args(None, true, Some(3))), Ok(Load::Burst { count: 3 })));
    for bad in [
        args(None, true, None),
        args(None, true, Some(0)),
        args(Some(5), true, Some(10)),
        args(None, false, Some(10)),
        args(Some(0), false, Some(10)),
    ] {
        assert!(Load::from_args(&bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        Load::Burst { count: 7 }.join_params(Pace::Batch).as_json(),
        Some(r#"{"mode":"burst","count":7}"#)
    );
    assert_eq!(
        Load::Rate { rate: 2, count: 7 }.join_params(Pace::Batch).as_json(),
        Some(r#"{"rate":2,"count":7}"#)
    );
    assert_eq!(
        Load::Rate { rate: 2, count: 7 }.join_params(Pace::Frame).as_json(),
        Some(r#"{"rate":2,"count":7,"pace":"frame"}"#)
    );
}

#[test]
fn consumer_pace_and_param_flags_are_checked() {
    for name in ["on", "subscription", "filter"] {
        assert_eq!(name.parse::<Consumer>().map(Consumer::name), Ok(name));
    }
    assert!("inline-ish".parse::<Consumer>().is_err());
    let mut args = Args::from_args(&["rig-bench"], &["--url", "ws://h/socket"]).unwrap();
    assert_eq!(args.consumer, "on");
    assert_eq!(Pace::from_args(&args), Ok(Pace::Batch));
    args.pace = Some("frame".into());
    assert_eq!(Pace::from_args(&args), Ok(Pace::Frame));
    args.pace = Some("slow".into());
    assert!(Pace::from_args(&args).is_err());
    args.param = vec!["a=1".into(), "b=x=y".into()];
    assert_eq!(
        connect_params(&args).unwrap(),
        [("a".to_owned(), "1".to_owned()), ("b".to_owned(), "x=y".to_owned())]
    );
    args.param = vec!["=1".into()];
    assert!(connect_params(&args).is_err());
    args.param = Vec::new();
    args.token_env = Some("RIG_BENCH_TEST_SURELY_UNSET_VARIABLE".into());
    let message = connect_params(&args).unwrap_err();
    assert!(message.contains("RIG_BENCH_TEST_SURELY_UNSET_VARIABLE"), "{message}");
}

#[test]
fn vmhwm_is_read_from_proc() {
    assert!(vmhwm_kb() > 0);
}

#[test]
fn a_report_path_is_checked_before_the_run() {
    let Err(Failure(code, message)) =
        report::create(std::path::Path::new("/nonexistent-rig/r.html"))
    else {
        panic!("an unwritable path was accepted");
    };
    assert_eq!(code, 2);
    if cfg!(feature = "report") {
        assert!(
            message.contains("cannot write the report to /nonexistent-rig/r.html"),
            "{message}"
        );
    } else {
        assert!(message.contains("`report` feature"), "{message}");
    }
}

#[test]
fn the_reported_command_hides_param_values() {
    let argv: Vec<String> = ["/x/rig-bench", "--url", "ws://h/socket", "--param", "token=s3cret"]
        .map(String::from)
        .into();
    let line = report::command_line(&argv);
    assert_eq!(line, "rig-bench --url ws://h/socket --param token=...");
}

#[cfg(feature = "report")]
#[test]
fn the_report_page_holds_three_charts_that_parse_as_xml() {
    let mut recorded = Recorded::new();
    for i in 0..3_000 {
        let latency = 200 + i % 700;
        recorded.series.record(1_000_000_000 + i * 1_000, latency);
        recorded.record(i + 1, latency);
    }
    let line = serde_json::json!({"events": 3000, "gaps": 0, "note": "<b>"});
    let page = report::render(
        &line,
        "rig-bench --url ws://h/socket",
        &recorded.series,
        &recorded.latency_us,
    )
    .unwrap();
    assert!(!page.contains("<script") && !page.contains("<link"), "nothing to fetch");
    assert!(page.contains("&lt;b&gt;"), "values are escaped");
    let mut titles = Vec::new();
    let mut rest = page.as_str();
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").unwrap() + start + "</svg>".len();
        let doc = roxmltree::Document::parse(&rest[start..end]).unwrap();
        let first = doc.descendants().find(|n| n.has_tag_name("text")).and_then(|n| n.text());
        titles.push(first.unwrap_or_default().trim().to_owned());
        rest = &rest[end..];
    }
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles[0].starts_with("Events per second"), "{titles:?}");
    assert!(titles[2].starts_with("Latency (all events)"), "{titles:?}");
    assert_eq!(recorded.series.seconds.len(), 3);
}
