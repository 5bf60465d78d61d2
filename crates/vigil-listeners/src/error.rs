//! The crate's error type.

/// Why listeners could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An invalid setting.
    #[error("listener {listener}: {msg}")]
    Config {
        /// Listener name.
        listener: String,
        /// What is wrong.
        msg: String,
    },
    /// Binding or configuring a socket failed.
    #[error("listener {listener}: cannot listen on {addr}: {source}")]
    Bind {
        /// Listener name.
        listener: String,
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be loaded.
    #[error("listener {listener}: {msg}")]
    Tls {
        /// Listener name.
        listener: String,
        /// What failed.
        msg: String,
    },
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
