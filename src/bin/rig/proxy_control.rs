//! `rig proxy`'s run-time controls: one command per line on standard input,
//! for the faults that happen on demand rather than on a schedule.
//!
//! ```text
//! reset              reset every open connection now (RST both ways)
//! blackhole on|off   forward nothing, close nothing (a half-open path)
//! stall MS           forward nothing for MS milliseconds, then resume
//! refuse on|off      refuse new connections (open ones go on)
//! stats              print the counters to standard output
//! ```

use std::time::Duration;

use rig::netsim::{Faults, ProxyHandle, ProxyStats};

use crate::ranges::Range;

/// One parsed control line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Control {
    Reset,
    Blackhole(bool),
    Stall(Duration),
    Refuse(bool),
    Stats,
}

/// The help shown for a line that is not a command.
pub(crate) const USAGE: &str =
    "commands: reset | blackhole on|off | stall MS | refuse on|off | stats";

impl Control {
    /// Parses one line; `Ok(None)` for a blank one.
    pub(crate) fn parse(line: &str) -> Result<Option<Self>, String> {
        let mut words = line.split_whitespace();
        let Some(verb) = words.next() else { return Ok(None) };
        let arg = words.next();
        if words.next().is_some() {
            return Err(format!("too many words in {line:?}; {USAGE}"));
        }
        let switch = |arg: Option<&str>| match arg {
            Some("on") => Ok(true),
            Some("off") => Ok(false),
            _ => Err(format!("{verb} takes on or off; {USAGE}")),
        };
        let control = match (verb, arg) {
            ("reset", None) => Self::Reset,
            ("stats", None) => Self::Stats,
            ("blackhole", arg) => Self::Blackhole(switch(arg)?),
            ("refuse", arg) => Self::Refuse(switch(arg)?),
            ("stall", Some(ms)) => match ms.parse::<u64>() {
                Ok(ms) => Self::Stall(Range::ms(1).millis("stall", ms).map_err(|f| f.message)?),
                _ => return Err(format!("stall takes a positive number of ms; {USAGE}")),
            },
            _ => return Err(format!("unknown command {line:?}; {USAGE}")),
        };
        Ok(Some(control))
    }

    /// Carries the command out; what to print on standard output, if anything.
    pub(crate) fn apply(self, proxy: &ProxyHandle, faults: &mut Faults) -> Result<String, String> {
        let done = match self {
            Self::Reset => proxy.reset_all().map(|()| "reset".to_owned()),
            Self::Blackhole(on) => {
                proxy.blackhole(on).map(|()| format!("blackhole {}", on_off(on)))
            }
            Self::Stall(length) => {
                proxy.stall_for(length).map(|()| format!("stall {} ms", length.as_millis()))
            }
            Self::Refuse(on) => {
                *faults = faults.refuse(on);
                proxy.set_faults(*faults).map(|()| format!("refuse {}", on_off(on)))
            }
            Self::Stats => Ok(stats_line(&proxy.stats())),
        };
        done.map_err(|e| e.to_string())
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// The counters as one line.
pub(crate) fn stats_line(stats: &ProxyStats) -> String {
    format!(
        "connections={} open={} bytes_upstream={} bytes_downstream={} resets={} stalls={} upstream_failures={} buffered={}",
        stats.connections,
        stats.open_connections,
        stats.bytes_upstream,
        stats.bytes_downstream,
        stats.resets,
        stats.stalls,
        stats.upstream_failures,
        stats.buffered_bytes
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Control;

    #[test]
    fn every_command_parses() {
        let parse = |line| Control::parse(line).unwrap();
        assert_eq!(parse("reset"), Some(Control::Reset));
        assert_eq!(parse("  blackhole on "), Some(Control::Blackhole(true)));
        assert_eq!(parse("blackhole off"), Some(Control::Blackhole(false)));
        assert_eq!(parse("stall 250"), Some(Control::Stall(Duration::from_millis(250))));
        assert_eq!(parse("refuse on"), Some(Control::Refuse(true)));
        assert_eq!(parse("stats"), Some(Control::Stats));
        assert_eq!(parse("   "), None);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        for line in
            ["blackhole", "blackhole maybe", "stall", "stall 0", "stall x", "reset now", "dance"]
        {
            let err = Control::parse(line).unwrap_err();
            assert!(err.contains("commands:") || err.contains("out of range"), "{line}: {err}");
        }
        let err = Control::parse("stall 18446744073709551615").unwrap_err();
        assert_eq!(err, "stall 18446744073709551615 is out of range: it must be 1 to 86400000 ms");
    }
}
