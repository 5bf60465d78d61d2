//! The crate's error type.

use std::fmt;

/// Where in a playbook file a problem is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// Path inside the document (`steps[2].http.url`); empty for the root.
    pub path: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.path.is_empty()) {
            (0, true) => Ok(()),
            (0, false) => write!(f, "{}", self.path),
            (l, true) => write!(f, "line {l}"),
            (l, false) => write!(f, "line {l} ({})", self.path),
        }
    }
}

/// Errors of the response engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A playbook that does not parse or validate.
    #[error("{file}: {location}: {msg}")]
    Playbook {
        /// File name or `<api>`.
        file: String,
        /// Where.
        location: Location,
        /// Why.
        msg: String,
    },
    /// An outbound destination refused by the egress guard.
    #[error("egress refused: {0}")]
    Egress(String),
    /// A template that failed to render.
    #[error("template: {0}")]
    Template(String),
    /// A run state that does not fit its playbook (the playbook changed
    /// under a run, or the stored state is corrupt).
    #[error("run state: {0}")]
    RunState(String),
    /// A configuration table (clocks, …) that is invalid.
    #[error("config: {0}")]
    Config(String),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
