//! The engine's one error type.

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An invalid organisation profile.
    #[error("invalid profile: {0}")]
    Profile(String),
    /// A MISP galaxy file that cannot be read.
    #[error("{source_name}: invalid MISP galaxy cluster file: {reason}")]
    Galaxy {
        /// The file or source name.
        source_name: String,
        /// Why.
        reason: String,
    },
}

/// The engine's result.
pub type Result<T> = std::result::Result<T, Error>;
