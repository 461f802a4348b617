//! Delivering session effects: encoding per serializer, topic subscriptions,
//! broadcasts and presence diffs.

use std::collections::HashMap;
use std::sync::Arc;

use bytestring::ByteString;
use tungstenite::Message as WsMessage;
use tungstenite::protocol::frame::Utf8Bytes;

use crate::protocol::{Frame, Message, ServerSerializer};

/// Which connection slots subscribe to which topic.
#[derive(Debug, Default)]
pub(crate) struct PubSub {
    topics: HashMap<ByteString, Vec<usize>>,
}

impl PubSub {
    pub(crate) fn subscribe(&mut self, topic: ByteString, slot: usize) {
        let subs = self.topics.entry(topic).or_default();
        if !subs.contains(&slot) {
            subs.push(slot);
        }
    }

    pub(crate) fn unsubscribe(&mut self, topic: &ByteString, slot: usize) {
        if let Some(subs) = self.topics.get_mut(topic) {
            subs.retain(|s| *s != slot);
            if subs.is_empty() {
                self.topics.remove(topic);
            }
        }
    }

    /// The subscribers of `topic`, in subscription order.
    pub(crate) fn subscribers(&self, topic: &ByteString) -> &[usize] {
        self.topics.get(topic).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Encodes `msg` for one client, as a WebSocket message.
pub(crate) fn encode(serializer: &dyn ServerSerializer, msg: &Message) -> Option<WsMessage> {
    match serializer.encode_server(msg) {
        Ok(Frame::Text(text)) => match Utf8Bytes::try_from(text.into_bytes()) {
            Ok(text) => Some(WsMessage::Text(text)),
            Err(_) => None,
        },
        Ok(Frame::Binary(bytes)) => Some(WsMessage::Binary(bytes)),
        Err(e) => {
            log::warn!(
                "cannot encode {} for vsn {}: {e}",
                crate::redact::text(&format!("{msg:?}")),
                serializer.vsn()
            );
            None
        }
    }
}

/// Encodes a broadcast once per serializer version, however many subscribers.
#[derive(Default)]
pub(crate) struct EncodeCache {
    encoded: Vec<(&'static str, Option<WsMessage>)>,
}

impl EncodeCache {
    pub(crate) fn get(
        &mut self,
        serializer: &Arc<dyn ServerSerializer>,
        msg: &Message,
    ) -> Option<WsMessage> {
        let vsn = serializer.vsn();
        if let Some((_, ws)) = self.encoded.iter().find(|(v, _)| *v == vsn) {
            return ws.clone();
        }
        let ws = encode(serializer.as_ref(), msg);
        self.encoded.push((vsn, ws.clone()));
        ws
    }
}
