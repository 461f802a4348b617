//! The sans-IO Phoenix Channels protocol core.
//!
//! In scope: the message model, serializers, the socket, channel and push
//! state machines ([`Session`]), the backoff schedules and (as they land)
//! presence sync. Out of scope: sockets, TLS, threads, queues and clock
//! reads. Whatever needs time takes `now` as an argument; drivers do the I/O.

mod backoff;
mod bindings;
mod channel;
mod config;
mod error;
mod message;
mod message_ref;
pub mod presence;
mod push;
mod reply;
pub mod serializer;
mod session;
mod socket;
mod typed;
mod url;

#[cfg(test)]
mod test;

pub use backoff::{Backoff, Delays, Jitter};
pub use bindings::{BindingRef, Bindings};
pub use channel::{ChannelInfo, ChannelParams, ChannelState};
pub use config::{SessionConfig, SessionConfigBuilder};
pub use error::{DecodeError, EncodeError, Error, Field};
pub use message::{Frame, Message, PHOENIX_TOPIC, Payload, Ref, events};
pub use reply::Reply;
pub use serializer::{Serializer, ServerSerializer, V1Serializer, V2Serializer};
pub use session::{
    AbandonReason, ChannelId, CloseReason, ConfigError, ErrorCause, Event, PushId, RttKind,
    Session, SessionError, SessionStats, TransportError, TransportReason,
};
pub use socket::{CLOSE_NORMAL, ConnectRequest, SocketState};
pub use typed::PayloadError;
pub use url::connect_url;
