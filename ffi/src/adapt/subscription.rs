//! Subscriptions (per channel and by filter), their messages, and presence:
//! the calls into rig for them.

use std::sync::Mutex;
use std::time::Duration;

use rig::engine::{
    Binding, Channel, ChannelPresence, FilterBinding, FilterSubscription, Subscription,
};
use rig::filter::{Expr, Filter};
use rig::protocol::Message;

use super::{ChannelObj, SocketObj, engine_failure, payload_bytes};
use crate::error::{Failure, rig_error};
use crate::handles::handle;
use crate::opaque::{rig_presence, rig_subscription};
use crate::owned::MessageData;
use crate::text::Text;

/// A message from rig, as handlers receive it.
pub(crate) type RigMessage = Message;

/// A presence view.
#[derive(Debug)]
pub(crate) struct PresenceObj(ChannelPresence);
handle!(PresenceObj, rig_presence, Presence, "rig_presence");

/// A subscription: a queue to poll, or a callback to remove on free.
#[derive(Debug)]
pub(crate) enum SubscriptionObj {
    Queue(Subscription),
    FilterQueue(Mutex<Option<FilterSubscription>>),
    Callback { channel: Channel, binding: Mutex<Option<Binding>> },
    FilterCallback(Mutex<Option<FilterBinding>>),
}
handle!(SubscriptionObj, rig_subscription, Subscription, "rig_subscription");

pub(crate) fn message_data(message: &Message) -> MessageData {
    let (payload, binary) = payload_bytes(&message.payload);
    MessageData {
        topic: Text::new(message.topic.as_bytes()),
        event: Text::new(message.event.as_bytes()),
        payload,
        binary,
    }
}

pub(crate) fn subscribe(
    channel: &ChannelObj,
    event: Option<&str>,
) -> Result<SubscriptionObj, Failure> {
    let subscription = match event {
        Some(event) => channel.0.subscribe(event.to_owned()),
        None => channel.0.subscribe_all(),
    };
    subscription.map(SubscriptionObj::Queue).map_err(engine_failure)
}

pub(crate) fn on(
    channel: &ChannelObj,
    event: Option<&str>,
    handler: impl FnMut(&Message) + Send + 'static,
) -> Result<SubscriptionObj, Failure> {
    let binding = match event {
        Some(event) => channel.0.on(event.to_owned(), handler),
        None => channel.0.on_all(handler),
    }
    .map_err(engine_failure)?;
    Ok(SubscriptionObj::Callback { channel: channel.0.clone(), binding: Mutex::new(Some(binding)) })
}

fn filter(topic: &str, events: Option<&str>, expr: Option<&str>) -> Result<Filter, Failure> {
    let failure =
        |err: &dyn std::fmt::Display| Failure::new(rig_error::RIG_ERR_FILTER, err.to_string());
    let mut filter = Filter::topic(topic).map_err(|err| failure(&err))?;
    if let Some(events) = events.filter(|events| !events.is_empty()) {
        filter = filter.events(events.split(',').map(str::trim).map(str::to_owned));
    }
    if let Some(expr) = expr.filter(|expr| !expr.is_empty()) {
        filter = filter.when(Expr::parse(expr).map_err(|err| failure(&err))?);
    }
    Ok(filter)
}

pub(crate) fn subscribe_filter(
    socket: &SocketObj,
    topic: &str,
    events: Option<&str>,
    expr: Option<&str>,
) -> Result<SubscriptionObj, Failure> {
    let subscription =
        socket.socket.subscribe_filter(filter(topic, events, expr)?).map_err(engine_failure)?;
    Ok(SubscriptionObj::FilterQueue(Mutex::new(Some(subscription))))
}

pub(crate) fn on_filter(
    socket: &SocketObj,
    topic: &str,
    events: Option<&str>,
    expr: Option<&str>,
    handler: impl FnMut(&Message) + Send + 'static,
) -> Result<SubscriptionObj, Failure> {
    let binding =
        socket.socket.on_filter(filter(topic, events, expr)?, handler).map_err(engine_failure)?;
    Ok(SubscriptionObj::FilterCallback(Mutex::new(Some(binding))))
}

/// The next queued message: `None` waits as long as it takes, zero does not wait.
pub(crate) fn next(
    subscription: &SubscriptionObj,
    timeout: Option<Duration>,
) -> Result<MessageData, Failure> {
    use crossbeam_channel::{RecvTimeoutError, TryRecvError};
    let receive = |receiver: &crossbeam_channel::Receiver<Message>| match timeout {
        None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
        Some(Duration::ZERO) => receiver.try_recv().map_err(|err| match err {
            TryRecvError::Empty => RecvTimeoutError::Timeout,
            TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
        }),
        Some(timeout) => receiver.recv_timeout(timeout),
    };
    let result = match subscription {
        SubscriptionObj::Queue(queue) => receive(queue.receiver()),
        SubscriptionObj::FilterQueue(slot) => {
            // Waits without the lock, so a free from another thread is not held up.
            let receiver = {
                let slot = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let queue = slot
                    .as_ref()
                    .ok_or_else(|| Failure::new(rig_error::RIG_ERR_CLOSED, "removed"))?;
                queue.receiver().clone()
            };
            receive(&receiver)
        }
        _ => return Err(Failure::invalid("a callback subscription has no queue to poll")),
    };
    match result {
        Ok(message) => Ok(message_data(&message)),
        Err(RecvTimeoutError::Timeout) => {
            Err(Failure::new(rig_error::RIG_ERR_TIMED_OUT, "no message within the wait"))
        }
        Err(RecvTimeoutError::Disconnected) => {
            Err(Failure::new(rig_error::RIG_ERR_CLOSED, "the subscription's source is gone"))
        }
    }
}

impl Drop for SubscriptionObj {
    fn drop(&mut self) {
        fn take<T>(slot: &mut Mutex<Option<T>>) -> Option<T> {
            slot.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take()
        }
        // Removal failures mean the engine stopped: nothing left to deliver.
        match self {
            Self::Queue(_) => {}
            Self::FilterQueue(slot) => {
                if let Some(subscription) = take(slot) {
                    let _ = subscription.remove();
                }
            }
            Self::Callback { channel, binding } => {
                if let Some(binding) = take(binding) {
                    let _ = channel.off(binding);
                }
            }
            Self::FilterCallback(slot) => {
                if let Some(binding) = take(slot) {
                    let _ = binding.remove();
                }
            }
        }
    }
}

pub(crate) fn presence(channel: &ChannelObj) -> Result<PresenceObj, Failure> {
    channel.0.presence().map(PresenceObj).map_err(engine_failure)
}

/// The presence list as a JSON object: key → `{"metas":[...]}`.
pub(crate) fn presence_json(presence: &PresenceObj) -> Result<Text, Failure> {
    let list: serde_json::Map<String, serde_json::Value> = presence
        .0
        .list()
        .into_iter()
        .map(|(key, entry)| serde_json::to_value(entry).map(|value| (key, value)))
        .collect::<Result<_, _>>()
        .map_err(|err| Failure::new(rig_error::RIG_ERR_INTERNAL, format!("presence: {err}")))?;
    Ok(Text::new(serde_json::Value::Object(list).to_string().as_bytes()))
}
