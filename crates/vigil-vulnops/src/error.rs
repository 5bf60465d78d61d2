//! The crate's error type.

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed (or rejected the data, e.g. an invalid asset).
    #[error(transparent)]
    Store(#[from] vigil_store::Error),
    /// A blocking task (index build, matching) did not finish.
    #[error("background task failed: {0}")]
    Task(String),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
