//! The one error type of the crate: every failure names the file, the YAML
//! location where known, and the reason.

use std::fmt;

/// Where in a rule file a problem sits (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => Ok(()),
            (l, 0) => write!(f, ":{l}"),
            (l, c) => write!(f, ":{l}:{c}"),
        }
    }
}

/// Errors of the Sigma library.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule (or correlation, or filter) breaks the specification.
    #[error("{path}{location}: {msg}")]
    Rule {
        /// The file (or other source name) the rule came from.
        path: String,
        /// Where in the file, when known.
        location: Location,
        /// What is wrong.
        msg: String,
    },
    /// A rule uses a legacy or unsupported construct (old `| count() by`
    /// aggregations, `near`, `timeframe`, `status: unsupported`).
    #[error("{path}{location}: unsupported: {reason}")]
    Unsupported {
        /// The file the rule came from.
        path: String,
        /// Where in the file, when known.
        location: Location,
        /// Why it is rejected.
        reason: String,
    },
    /// A field-mapping file is invalid.
    #[error("mapping {name}: {msg}")]
    Mapping {
        /// The mapping's name or file.
        name: String,
        /// What is wrong.
        msg: String,
    },
}

impl Error {
    /// True for [`Error::Unsupported`].
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported { .. })
    }

    /// The source path the error refers to (the mapping name for mappings).
    pub fn path(&self) -> &str {
        match self {
            Error::Rule { path, .. } | Error::Unsupported { path, .. } => path,
            Error::Mapping { name, .. } => name,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem found while parsing one document, before the path is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub(crate) msg: String,
    pub(crate) unsupported: bool,
    /// A key whose line should be looked up in the source text.
    pub(crate) key: Option<String>,
}

impl Problem {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            unsupported: false,
            key: None,
        }
    }
    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            unsupported: true,
            key: None,
        }
    }
    pub(crate) fn at(mut self, key: &str) -> Self {
        if self.key.is_none() {
            self.key = Some(key.to_string());
        }
        self
    }

    /// Attaches the path; the location is that of `key` in `text` (within
    /// the document starting at `line_offset`), when found.
    pub(crate) fn into_error(self, path: &str, text: &str, line_offset: usize) -> Error {
        let location = self
            .key
            .as_deref()
            .and_then(|k| find_key_line(text, line_offset, k))
            .map(|(line, column)| Location { line, column })
            .unwrap_or(Location {
                line: line_offset + 1,
                column: 0,
            });
        if self.unsupported {
            Error::Unsupported {
                path: path.to_string(),
                location,
                reason: self.msg,
            }
        } else {
            Error::Rule {
                path: path.to_string(),
                location,
                msg: self.msg,
            }
        }
    }
}

/// Finds the first line at or after `from` (0-based) whose content starts
/// with `key:`; returns its 1-based line and column.
fn find_key_line(text: &str, from: usize, key: &str) -> Option<(usize, usize)> {
    for (i, line) in text.lines().enumerate().skip(from) {
        let trimmed = line.trim_start();
        let t = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let t = t.trim_start_matches(['\'', '"']);
        if let Some(rest) = t.strip_prefix(key)
            && rest.trim_start_matches(['\'', '"']).starts_with(':')
        {
            return Some((i + 1, line.len() - trimmed.len() + 1));
        }
    }
    None
}
