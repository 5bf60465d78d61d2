//! Pipeline errors.

/// What can go wrong submitting events or running the pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pipeline is shutting down and takes no more events.
    #[error("the pipeline is shutting down and accepts no more events")]
    ShuttingDown,
    /// The store failed; the events of the submission were not committed.
    #[error("store: {0}")]
    Store(String),
    /// A detector could not restore its state.
    #[error("{0}")]
    Detector(String),
}

impl From<vigil_store::Error> for Error {
    fn from(e: vigil_store::Error) -> Self {
        Error::Store(e.to_string())
    }
}

/// The pipeline's result type.
pub type Result<T> = std::result::Result<T, Error>;
