//! Bytes pass intact under every fault, and no sooner than the faults allow.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use super::util::{both, echo_proxy, echo_round_trip, now, pattern, settle};
use crate::netsim::{DirectionFaults, Faults, Periodic, Stalls};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sends `len` bytes through the proxy to the echo and checks them back.
fn assert_intact(faults: Faults, len: usize) {
    let rig = echo_proxy(faults);
    let stream = rig.connect();
    let data = pattern(len, 0x5a);
    assert_eq!(echo_round_trip(&stream, &data), data);
    settle(&rig.proxy);
    let stats = rig.proxy.stats();
    assert_eq!(stats.bytes_upstream, u64::try_from(len).unwrap());
    assert_eq!(stats.bytes_downstream, u64::try_from(len).unwrap());
}

#[test]
fn bytes_pass_intact_without_faults() {
    assert_intact(Faults::default(), 1 << 20);
}

#[test]
fn bytes_pass_intact_under_latency_and_jitter() {
    assert_intact(both(DirectionFaults::default().latency(ms(5)).jitter(ms(20))), 256 * 1024);
}

#[test]
fn bytes_pass_intact_under_a_bandwidth_cap() {
    assert_intact(both(DirectionFaults::default().bandwidth(2 << 20)), 256 * 1024);
}

#[test]
fn bytes_pass_intact_when_sliced() {
    assert_intact(both(DirectionFaults::default().slice(1)), 4096);
    assert_intact(both(DirectionFaults::default().slice(7)), 64 * 1024);
}

#[test]
fn bytes_pass_intact_through_recurring_stalls() {
    let stalls = Stalls { every: Periodic { every: ms(20), jitter: ms(5) }, length: ms(10) };
    let rig = echo_proxy(both(DirectionFaults::default().stalls(stalls).bandwidth(4 << 20)));
    let stream = rig.connect();
    let data = pattern(512 * 1024, 3);
    assert_eq!(echo_round_trip(&stream, &data), data);
    settle(&rig.proxy);
    // 512 KiB at 4 MiB/s takes over 120 ms: several stalls began meanwhile.
    assert!(rig.proxy.stats().stalls >= 2);
}

#[test]
fn bytes_pass_intact_under_everything_at_once() {
    let stalls = Stalls { every: Periodic { every: ms(15), jitter: ms(5) }, length: ms(5) };
    let all = DirectionFaults::default()
        .latency(ms(2))
        .jitter(ms(3))
        .bandwidth(1 << 20)
        .slice(13)
        .stalls(stalls);
    assert_intact(both(all), 64 * 1024);
}

#[test]
fn a_round_trip_takes_at_least_the_latency_both_ways() {
    let rig = echo_proxy(
        Faults::default()
            .upstream(DirectionFaults::default().latency(ms(40)))
            .downstream(DirectionFaults::default().latency(ms(60)).jitter(ms(10))),
    );
    let stream = rig.connect();
    for _ in 0..3 {
        let start = now();
        assert_eq!(echo_round_trip(&stream, b"ping"), b"ping");
        let rtt = start.elapsed();
        assert!(rtt >= ms(100), "round trip {rtt:?} under the 40 + 60 ms configured");
    }
}

#[test]
fn a_bandwidth_cap_slows_a_transfer_to_the_rate() {
    // 100 KiB each way at 200 KiB/s, less the 4 KiB bucket: at least ~480 ms.
    let rig = echo_proxy(both(DirectionFaults::default().bandwidth(200 * 1024)));
    let stream = rig.connect();
    let data = pattern(100 * 1024, 9);
    let start = now();
    assert_eq!(echo_round_trip(&stream, &data), data);
    let took = start.elapsed();
    assert!(took >= ms(480), "{took:?}");
}

#[test]
fn a_stall_delays_everything_then_delivers_it_intact() {
    let rig = echo_proxy(Faults::default());
    let stream = rig.connect();
    assert_eq!(echo_round_trip(&stream, b"warm"), b"warm");
    let start = now();
    rig.proxy.stall_for(ms(200)).unwrap();
    let data = pattern(10_000, 1);
    assert_eq!(echo_round_trip(&stream, &data), data);
    assert!(start.elapsed() >= ms(200));
    assert_eq!(rig.proxy.stats().stalls, 2, "one per direction");
}

#[test]
fn slices_reach_the_reader_as_separate_reads() {
    // With a gap between 1-byte slices, a blocking reader gets them one by one.
    let rig = echo_proxy(
        Faults::default().downstream(DirectionFaults::default().slice(1).slice_gap(ms(2))),
    );
    let mut stream = rig.connect();
    stream.write_all(b"abcdef").unwrap();
    let mut got = Vec::new();
    let mut reads = 0;
    while got.len() < 6 {
        let mut buf = [0u8; 64];
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
        reads += 1;
    }
    assert_eq!(got, b"abcdef");
    assert!(reads >= 2, "the reader saw partial data");
}

#[test]
fn a_half_close_is_forwarded_after_the_bytes() {
    let rig = echo_proxy(both(DirectionFaults::default().latency(ms(20))));
    let mut stream = rig.connect();
    stream.write_all(b"last words").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    // The echo sees the end, answers what it got, then closes: we read it all, then EOF.
    let mut all = Vec::new();
    stream.read_to_end(&mut all).unwrap();
    assert_eq!(all, b"last words");
}
