//! The crate's error type. Per-record problems are not errors of this kind:
//! they are [`crate::RecordError`] values collected next to the good events.

/// What can go wrong outside a single record (decompression, reading).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Decompressed data would exceed the caller's bound (zip bomb guard).
    /// The caller knows the bound it passed, so the variant carries none.
    #[error("the decompressed data exceeds the size limit")]
    TooLarge,
    /// The bytes are not valid gzip.
    #[error("invalid gzip data: {reason}")]
    Gzip {
        /// What the decoder reported.
        reason: String,
    },
}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
