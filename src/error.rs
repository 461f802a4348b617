//! The crate-level error: wraps the error of each layer.

/// Any error rig reports. Each variant wraps the error of one layer.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Serializer, V2Serializer, Frame};
///
/// let decode_err = V2Serializer::default().decode(Frame::text("not json")).unwrap_err();
/// let err = rig::Error::from(rig::protocol::Error::from(decode_err));
/// assert!(err.to_string().starts_with("protocol: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A frame could not be decoded or encoded, or a protocol rule was broken.
    #[error("protocol: {0}")]
    Protocol(#[from] crate::protocol::Error),
    /// The persistent outbox refused a push or its file could not be used.
    #[cfg(feature = "outbox")]
    #[error("outbox: {0}")]
    Outbox(#[from] crate::outbox::Error),
    /// The embedded server failed to start or serve.
    #[cfg(feature = "server")]
    #[error("server: {0}")]
    Server(#[from] crate::server::Error),
}
