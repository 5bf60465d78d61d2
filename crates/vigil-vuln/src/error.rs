//! The crate's one error type and its `Result` alias.

/// Everything that can go wrong while parsing or comparing vulnerability data.
///
/// Every variant carries enough context (format, location, offending value) to
/// be shown to a user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A version string that the ecosystem's rules reject.
    #[error("invalid {scheme} version {version:?}: {reason}")]
    Version {
        /// Version scheme name (`pep440`, `maven`, ...).
        scheme: &'static str,
        /// The rejected input (truncated to 200 characters).
        version: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A malformed package URL.
    #[error("invalid purl {purl:?}: {reason}")]
    Purl {
        /// The rejected input (truncated to 200 characters).
        purl: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An ecosystem name this crate does not know.
    #[error("unknown ecosystem {0:?}")]
    Ecosystem(String),
    /// A document (OSV record, SBOM, lock file, ...) that could not be parsed.
    #[error("{format}: {location}: {reason}")]
    Parse {
        /// Document format (`osv`, `cyclonedx-xml`, `Cargo.lock`, ...).
        format: &'static str,
        /// Where: a line number, a JSON path or an element name.
        location: String,
        /// What went wrong.
        reason: String,
    },
    /// An input larger than the configured bound.
    #[error("{what} too large: {size} > {limit}")]
    TooLarge {
        /// What was measured.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The bound.
        limit: usize,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Longest input echoed back in an error message.
const ECHO_LIMIT: usize = 200;

/// Truncates user input for error messages (on a char boundary).
pub(crate) fn echo(s: &str) -> String {
    if s.len() <= ECHO_LIMIT {
        return s.to_owned();
    }
    let mut end = ECHO_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[allow(dead_code)] // used as the parsers land
impl Error {
    /// Shorthand for [`Error::Version`].
    pub(crate) fn version(scheme: &'static str, version: &str, reason: impl Into<String>) -> Self {
        Error::Version {
            scheme,
            version: echo(version),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Parse`].
    pub(crate) fn parse(
        format: &'static str,
        location: impl Into<String>,
        reason: impl std::fmt::Display,
    ) -> Self {
        Error::Parse {
            format,
            location: location.into(),
            reason: reason.to_string(),
        }
    }

    /// Checks an input size bound.
    pub(crate) fn check_size(what: &'static str, size: usize, limit: usize) -> Result<()> {
        if size > limit {
            Err(Error::TooLarge { what, size, limit })
        } else {
            Ok(())
        }
    }
}
