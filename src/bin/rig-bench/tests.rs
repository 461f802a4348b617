//! Unit tests of `rig-bench`: the recorder, the flag checks, /proc.

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
        Load::Burst { count: 7 }.join_params().as_json(),
        Some(r#"{"mode":"burst","count":7}"#)
    );
    assert_eq!(
        Load::Rate { rate: 2, count: 7 }.join_params().as_json(),
        Some(r#"{"rate":2,"count":7}"#)
    );
}

#[test]
fn vmhwm_is_read_from_proc() {
    assert!(vmhwm_kb() > 0);
}
