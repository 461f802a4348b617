//! The sans-IO Phoenix Channels protocol core.
//!
//! In scope: the message model, serializers, and (as they land) the socket,
//! channel and push state machines, presence sync and the backoff schedules.
//! Out of scope: sockets, TLS, threads, queues and clock reads. Whatever needs
//! time takes `now` as an argument; drivers do the I/O.

mod backoff;
mod error;
mod message;
mod reply;
pub mod serializer;

#[cfg(test)]
mod test;

pub use backoff::{Backoff, Delays, Jitter};
pub use error::{DecodeError, EncodeError, Error, Field};
pub use message::{Frame, Message, PHOENIX_TOPIC, Payload, Ref, events};
pub use reply::Reply;
pub use serializer::{Serializer, ServerSerializer, V2Serializer};
