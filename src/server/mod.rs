//! The embedded Phoenix-compatible server.

/// Errors of the embedded server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error while binding or serving.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
