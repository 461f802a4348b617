//! The fault logic without sockets: time is a plain `Duration`.

use std::time::Duration;

use crate::netsim::faults::{Direction, DirectionFaults, Periodic, Stalls};
use crate::netsim::pipe::{Gate, Pipe, Ready};
use crate::netsim::schedule::Schedule;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn pipe(faults: DirectionFaults, limit: usize) -> Pipe {
    let delays = Schedule::new(1).delays(0, Direction::Upstream, &faults);
    Pipe::new(limit, &faults, delays, Duration::ZERO)
}

/// Drains everything the pipe releases at `now` (as a writer with room would).
fn drain(pipe: &mut Pipe, now: Duration, gate: Gate) -> (Vec<u8>, Vec<usize>, Ready) {
    let mut out = Vec::new();
    let mut writes = Vec::new();
    loop {
        match pipe.poll_ready(now, gate) {
            Ready::Bytes(n) => {
                let chunk = pipe.front(n).to_vec();
                assert!(!chunk.is_empty());
                writes.push(chunk.len());
                out.extend_from_slice(&chunk);
                pipe.consume(now, chunk.len());
            }
            other => return (out, writes, other),
        }
    }
}

#[test]
fn latency_holds_bytes_until_their_release_time() {
    let mut p = pipe(DirectionFaults::default().latency(ms(50)), 1024);
    assert_eq!(p.push(ms(10), b"abc"), 3);
    assert_eq!(p.poll_ready(ms(10), Gate::Open), Ready::At(ms(60)));
    assert_eq!(p.poll_ready(ms(59), Gate::Open), Ready::At(ms(60)));
    let (out, _, rest) = drain(&mut p, ms(60), Gate::Open);
    assert_eq!(out, b"abc");
    assert_eq!(rest, Ready::Idle);
}

#[test]
fn jitter_never_reorders_bytes() {
    let faults = DirectionFaults::default().latency(ms(5)).jitter(ms(40));
    let mut p = pipe(faults, 1 << 20);
    let mut sent = Vec::new();
    for i in 0..200u32 {
        let chunk = i.to_be_bytes();
        p.push(ms(u64::from(i)), &chunk);
        sent.extend_from_slice(&chunk);
    }
    let mut got = Vec::new();
    let mut t = ms(0);
    while got.len() < sent.len() {
        let (out, _, next) = drain(&mut p, t, Gate::Open);
        got.extend(out);
        match next {
            Ready::At(at) => {
                assert!(at > t);
                t = at;
            }
            Ready::Idle => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, sent);
    // Nothing came out before its latency: the last byte was pushed at 199 ms.
    assert!(t >= ms(199 + 5));
}

#[test]
fn slicing_caps_every_write_and_spaces_them_by_the_gap() {
    let mut p = pipe(DirectionFaults::default().slice(3), 1024);
    p.push(ms(0), b"0123456789");
    let (out, writes, _) = drain(&mut p, ms(0), Gate::Open);
    assert_eq!(out, b"0123456789");
    assert_eq!(writes, [3, 3, 3, 1]);

    let mut p = pipe(DirectionFaults::default().slice(4).slice_gap(ms(2)), 1024);
    p.push(ms(0), b"abcdefghij");
    let (out, _, next) = drain(&mut p, ms(0), Gate::Open);
    assert_eq!(out, b"abcd");
    assert_eq!(next, Ready::At(ms(2)));
    let (out, _, next) = drain(&mut p, ms(2), Gate::Open);
    assert_eq!(out, b"efgh");
    assert_eq!(next, Ready::At(ms(4)));
    assert_eq!(drain(&mut p, ms(4), Gate::Open).0, b"ij");
}

#[test]
fn bandwidth_releases_bytes_at_the_rate() {
    // 1000 B/s: a 20-byte bucket, then one byte per millisecond.
    let mut p = pipe(DirectionFaults::default().bandwidth(1000), 4096);
    p.push(ms(0), &[7u8; 100]);
    let (out, _, next) = drain(&mut p, ms(0), Gate::Open);
    assert_eq!(out.len(), 20, "the full bucket");
    assert_eq!(next, Ready::At(ms(1)));
    let (out, _, _) = drain(&mut p, ms(30), Gate::Open);
    assert_eq!(out.len(), 20, "refilled to the burst, not beyond");
    let (out, _, _) = drain(&mut p, ms(40), Gate::Open);
    assert_eq!(out.len(), 10);
    let mut total = 50;
    let mut t = ms(40);
    while total < 100 {
        let (out, _, next) = drain(&mut p, t, Gate::Open);
        total += out.len();
        if let Ready::At(at) = next {
            t = at;
        }
    }
    // 100 bytes at 1000 B/s with a 20-byte head start: at least 80 ms.
    assert!(t >= ms(80), "{t:?}");
}

#[test]
fn a_stall_or_blackhole_holds_everything_then_lets_it_through_intact() {
    let mut p = pipe(DirectionFaults::default(), 1024);
    p.push(ms(0), b"held");
    assert_eq!(p.poll_ready(ms(1), Gate::Until(ms(100))), Ready::At(ms(100)));
    assert_eq!(p.poll_ready(ms(1), Gate::Closed), Ready::Idle);
    p.push(ms(2), b" back");
    p.close(ms(3));
    assert_eq!(p.poll_ready(ms(3), Gate::Closed), Ready::Idle);
    let (out, _, next) = drain(&mut p, ms(100), Gate::Until(ms(100)));
    assert_eq!(out, b"held back");
    assert_eq!(next, Ready::Eof);
}

#[test]
fn the_end_of_stream_waits_for_the_bytes_and_the_latency() {
    let mut p = pipe(DirectionFaults::default().latency(ms(20)), 1024);
    p.close(ms(5));
    assert!(p.is_closed());
    assert_eq!(p.poll_ready(ms(5), Gate::Open), Ready::At(ms(25)));
    assert_eq!(p.poll_ready(ms(25), Gate::Until(ms(30))), Ready::At(ms(30)));
    assert_eq!(p.poll_ready(ms(30), Gate::Open), Ready::Eof);
    assert_eq!(p.push(ms(31), b"late"), 0, "nothing after the end");
}

#[test]
fn the_buffer_is_bounded() {
    let mut p = pipe(DirectionFaults::default().latency(ms(10)), 8);
    assert_eq!(p.push(ms(0), b"0123456789"), 8);
    assert_eq!(p.space(), 0);
    assert_eq!(p.push(ms(0), b"x"), 0);
    let (out, _, _) = drain(&mut p, ms(10), Gate::Open);
    assert_eq!(out, b"01234567");
    assert_eq!(p.space(), 8);
    assert_eq!(p.len(), 0);
}

#[test]
fn new_faults_apply_to_new_bytes_only() {
    let mut p = pipe(DirectionFaults::default().latency(ms(100)), 1024);
    p.push(ms(0), b"old");
    let quick = DirectionFaults::default();
    p.set_faults(&quick, Schedule::new(1).delays(0, Direction::Upstream, &quick), ms(1));
    p.push(ms(1), b"new");
    // The new bytes may not overtake the old ones.
    assert_eq!(p.poll_ready(ms(1), Gate::Open), Ready::At(ms(100)));
    assert_eq!(drain(&mut p, ms(100), Gate::Open).0, b"oldnew");
}

#[test]
fn stall_schedules_are_offsets_of_fixed_length() {
    let stalls = Stalls { every: Periodic { every: ms(100), jitter: ms(30) }, length: ms(10) };
    let faults = DirectionFaults::default().stalls(stalls);
    let windows: Vec<_> =
        Schedule::new(4).stalls(Direction::Upstream, &faults).unwrap().take(50).collect();
    let mut previous = Duration::ZERO;
    for w in &windows {
        let gap = w.start - previous;
        assert!(gap >= ms(70) && gap <= ms(130), "{gap:?}");
        assert_eq!(w.end - w.start, ms(10));
        previous = w.start;
    }
}
