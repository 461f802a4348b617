//! [`Channel::send`]: a message without a reply, for events a server
//! answers with a broadcast or not at all.
//!
//! phoenix.js has no such call: its `channel.push("shout", ..)` always arms
//! a timeout, and code that ignores the result just lets it fire. Here
//! [`Channel::push`] keeps that meaning (a `Push` that resolves with a
//! reply or `Timeout`); `send` is the push whose reply nobody waits for,
//! with nothing tracked on rig-io (no ref kept, no timer, no buffer).
//!
//! | phoenix.js | rig |
//! |---|---|
//! | `channel.push("shout", p)` with no `receive` | `channel.send("shout", p)?` |
//! | `channel.push("echo", p).receive("ok", f)` | `channel.push("echo", p).on_ok(f)` or `.wait()` |

use bytestring::ByteString;

use super::channel::Channel;
use crate::engine::shared::command::{Command, NewSend};
use crate::engine::shared::error::EngineError;
use crate::protocol::{ChannelState, Payload};

impl Channel {
    /// Sends `event` without waiting for a reply: for events the server
    /// answers with a broadcast (a `shout`) or not at all. No timeout, no
    /// [`Push`](crate::engine::Push), nothing tracked; a reply that comes
    /// anyway is dropped (counted as unmatched in the session stats).
    ///
    /// Sent only on a joined channel: unlike [`push`](Self::push), nothing
    /// is buffered until a join, so a message is not sent late or twice. A
    /// channel that stops being joined (or is removed) between this call
    /// and rig-io's turn loses the message: logged as a warning and counted
    /// in [`SocketHealth::sends_lost`](crate::engine::SocketHealth::sends_lost).
    ///
    /// # Errors
    ///
    /// [`EngineError::NotJoined`] (nothing sent), [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::protocol::Payload;
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// let room = socket.channel("room:lobby", Payload::empty())?;
    /// assert!(room.send("shout", Payload::empty()).is_err(), "not joined yet");
    /// let shouts = room.subscribe("shout")?;
    /// room.join().wait()?;
    /// room.send("shout", Payload::json(r#"{"text":"hi"}"#))?;
    /// // The server broadcasts it to every member, the sender included.
    /// let shout = shouts.recv_timeout(Duration::from_secs(5))?;
    /// assert_eq!(shout.payload.as_json(), Some(r#"{"text":"hi"}"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send(&self, event: impl Into<ByteString>, payload: Payload) -> Result<(), EngineError> {
        let state = self.state();
        if state != ChannelState::Joined {
            return Err(EngineError::NotJoined { topic: self.topic().to_owned(), state });
        }
        let link = self.socket().link();
        let command = Command::Send(Box::new(NewSend {
            socket: link.socket,
            channel: self.key(),
            event: event.into(),
            payload,
        }));
        link.send(command)
    }
}
