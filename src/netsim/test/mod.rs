//! netsim tests: the fault logic without sockets, the schedule, and the
//! proxy on real loopback sockets in front of an echo upstream (and the
//! embedded Phoenix server).

mod control;
mod echo;
mod forward;
mod netns;
mod pipe;
mod scale;
mod schedule;
mod util;
#[cfg(feature = "server")]
mod websocket;
