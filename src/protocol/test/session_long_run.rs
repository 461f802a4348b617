//! Long runs against a flaky scripted server: many reconnects, rejoins,
//! joins that fail or go unanswered, pushes that time out, heartbeats that
//! go missing. After every step each armed timer has an owner (no timer is
//! forgotten in the wheel), the number of armed timers stays bounded, and
//! once everything is removed and the socket closed, the wheel is empty.

use std::time::Duration;

use super::harness::Harness;
use crate::protocol::{ChannelId, Frame, Message, Payload, SocketState, TransportError};

/// A small deterministic RNG (xorshift64*), so any failure reproduces from
/// its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const TOPICS: [&str; 6] = ["room:a", "room:b", "room:c", "room:d", "room:a", "stream:x"];

struct LongRun {
    h: Harness,
    rng: Rng,
    channels: Vec<ChannelId>,
    /// How much of `h.history` the server has answered.
    answered: usize,
    /// The server ignores every frame (a half-dead connection).
    silent: bool,
    max_timers: usize,
}

impl LongRun {
    fn new(seed: u64) -> Self {
        let h = Harness::with(move |b| b.seed(seed).timeout(Duration::from_secs(10)));
        Self {
            h,
            rng: Rng(seed | 1),
            channels: Vec::new(),
            answered: 0,
            silent: false,
            max_timers: 0,
        }
    }

    fn reply(&mut self, m: &Message, status: &str) {
        let Some(r) = &m.r#ref else { return };
        let jr = m.join_ref.as_ref().map_or_else(|| "null".to_owned(), |j| format!("\"{j}\""));
        let text = format!(
            r#"[{jr},"{r}","{}","phx_reply",{{"response":{{}},"status":"{status}"}}]"#,
            m.topic
        );
        let now = self.h.now();
        self.h.session.handle_frame(now, Frame::text(text)).expect("reply decodes");
    }

    /// The server answers what was sent since last time, mostly.
    fn serve(&mut self) {
        self.h.collect();
        let fresh: Vec<Message> = self.h.history[self.answered..].to_vec();
        self.answered = self.h.history.len();
        if self.silent || self.h.session.state() != SocketState::Open {
            return;
        }
        for m in fresh {
            let roll = self.rng.below(100);
            match &*m.event {
                "heartbeat" => self.reply(&m, "ok"),
                "phx_join" if roll < 75 => self.reply(&m, "ok"),
                "phx_join" if roll < 85 => self.reply(&m, "error"),
                "phx_leave" if roll < 90 => self.reply(&m, "ok"),
                "phx_join" | "phx_leave" => {}
                _ if roll < 70 => self.reply(&m, "ok"),
                _ if roll < 80 => self.reply(&m, "error"),
                _ => {}
            }
        }
        self.h.collect();
    }

    fn step(&mut self) {
        let now = self.h.now();
        let pick = |rng: &mut Rng, channels: &[ChannelId]| {
            let n = u64::try_from(channels.len()).unwrap_or(u64::MAX);
            channels.get(usize::try_from(rng.below(n)).unwrap_or(0)).copied()
        };
        match self.rng.below(100) {
            0..=29 => {
                if let Some(ch) = pick(&mut self.rng, &self.channels) {
                    let _ = self.h.session.push(now, ch, "msg", Payload::json("{}"), None);
                }
            }
            30..=49 => {
                let ms = self.rng.below(15_000);
                self.h.advance_ms(ms);
            }
            50..=56 => match self.h.session.state() {
                SocketState::Closed => self.h.session.connect(now),
                SocketState::Connecting if self.rng.chance(80) => self.h.session.handle_open(now),
                SocketState::Connecting => {
                    self.h.session.handle_error(now, TransportError::failed("reset"));
                }
                SocketState::Open => {
                    let code = if self.rng.chance(50) { None } else { Some(1006) };
                    self.h.session.handle_close(now, code, "");
                }
                _ => self.h.session.handle_close(now, Some(1000), ""),
            },
            57..=60 => self.silent = !self.silent,
            61..=66 => {
                let topic = TOPICS[usize::try_from(self.rng.below(6)).unwrap_or(0)];
                let ch = self.h.session.channel(topic, Payload::empty());
                let _ = self.h.session.join(now, ch, None);
                self.channels.push(ch);
            }
            67..=70 => {
                if let Some(ch) = pick(&mut self.rng, &self.channels) {
                    let _ = self.h.session.leave(now, ch, None);
                }
            }
            71..=72 => {
                if let Some(ch) = pick(&mut self.rng, &self.channels) {
                    self.h.session.remove(ch);
                }
            }
            73..=78 => {
                let topic = TOPICS[usize::try_from(self.rng.below(6)).unwrap_or(0)];
                let event = if self.rng.chance(50) { "phx_error" } else { "shout" };
                let text = format!(r#"[null,null,"{topic}","{event}",{{}}]"#);
                let _ = self.h.session.handle_frame(now, Frame::text(text));
            }
            _ => {
                self.h.step();
            }
        }
        // A connect the driver must serve: open it now and then.
        if self.h.session.state() == SocketState::Connecting && self.rng.chance(30) {
            let now = self.h.now();
            self.h.session.handle_open(now);
        }
        if self.h.session.state() == SocketState::Closing {
            let now = self.h.now();
            self.h.session.handle_close(now, Some(1000), "heartbeat timeout");
        }
        self.channels.retain(|c| self.h.session.channel_info(*c).is_some());
        self.serve();
        self.h.session.check_timer_owners();
        self.h.session.check_send_buffer_marks();
        self.max_timers = self.max_timers.max(self.h.session.timer_count());
    }

    /// Everything goes: channels removed, socket closed, time runs out.
    fn finish(mut self) -> usize {
        let now = self.h.now();
        let left: Vec<ChannelId> = self.h.session.channels().collect();
        for ch in left {
            self.h.session.remove(ch);
        }
        self.h.session.disconnect(now, 1000, "done");
        self.h.session.handle_close(now, Some(1000), "");
        self.h.advance(Duration::from_secs(60));
        self.h.session.check_timer_owners();
        self.h.session.check_send_buffer_marks();
        assert_eq!(self.h.session.timer_count(), 0, "timers left: {:?}", self.h.session);
        assert_eq!(self.h.session.send_buffer_len(), 0);
        assert_eq!(self.h.session.refs_waiting(), 0);
        self.max_timers
    }
}

#[test]
fn long_runs_with_reconnects_keep_every_timer_owned_and_bounded() {
    for seed in [1, 7, 42, 1234, 98_765] {
        let mut run = LongRun::new(seed);
        for _ in 0..3_000 {
            run.step();
            // Each channel holds at most a rejoin and a join timer; pushes
            // are at most ~30 per 10 s timeout window; three socket timers.
            let bound = 3 + 2 * run.channels.len() + 200;
            assert!(
                run.h.session.timer_count() <= bound,
                "seed {seed}: {} timers for {} channels",
                run.h.session.timer_count(),
                run.channels.len()
            );
        }
        let connections = run.h.session.stats().connections;
        assert!(connections > 20, "seed {seed}: only {connections} connections");
        let max = run.finish();
        assert!(max > 0);
    }
}
