//! The crate's one error type.

/// Errors of whole inputs. Single bad items (one STIX object, one CSV line)
/// are not errors: they are listed in the [`crate::ImportReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not valid JSON (or not the expected JSON shape).
    #[error("{what}: invalid JSON at line {line}, column {column}: {msg}")]
    Json {
        /// What was being read (`STIX bundle`, `MISP event`, …).
        what: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        msg: String,
    },
    /// The JSON is valid but not the expected document.
    #[error("{what}: {msg}")]
    Shape {
        /// What was being read.
        what: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// gzip input that cannot be decompressed.
    #[error("gzip: {0}")]
    Gzip(String),
    /// Input or decompressed input larger than the configured bound.
    #[error("input too large: more than {limit} bytes")]
    TooLarge {
        /// The bound in bytes.
        limit: usize,
    },
    /// A value that cannot be normalised to the requested indicator type.
    #[error("invalid {kind} value {value:?}: {reason}")]
    Value {
        /// The indicator type name.
        kind: &'static str,
        /// The offending value (truncated).
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A STIX pattern that does not parse.
    #[error("pattern: {0}")]
    Pattern(#[from] crate::pattern::PatternError),
    /// A list-format or warninglist configuration that cannot be used.
    #[error("config: {0}")]
    Config(String),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn json(what: &'static str, e: &serde_json::Error) -> Self {
        Error::Json {
            what,
            line: e.line(),
            column: e.column(),
            msg: e.to_string(),
        }
    }

    pub(crate) fn shape(what: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape {
            what,
            msg: msg.into(),
        }
    }

    pub(crate) fn value(kind: &'static str, value: &str, reason: &'static str) -> Self {
        let mut v: String = value.chars().take(120).collect();
        if v.len() < value.len() {
            v.push('…');
        }
        Error::Value {
            kind,
            value: v,
            reason,
        }
    }
}
