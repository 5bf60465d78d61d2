//! The Sigma rules that failed to load at the last detector build: file,
//! location and reason. The binary builds the detectors (`sigma.rs`) and
//! records what it skipped here; the console's rules page shows it. Kept
//! in memory per server: it describes the detectors this process runs.

use std::sync::Arc;

use parking_lot::RwLock;
use vigil_model::Timestamp;

/// Most errors kept from one build; the rest are counted only.
const MAX_ERRORS: usize = 10_000;

/// One rule file or document that was left out of the detectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLoadError {
    /// The file (`builtin/<name>`, a path, or `api/<id>` for uploads).
    pub path: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// Why it was left out.
    pub reason: String,
    /// True when the rule uses a construct Vigil does not support (rather
    /// than breaking the specification).
    pub unsupported: bool,
}

impl RuleLoadError {
    /// A file that could not be read at all.
    pub fn file(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line: 0,
            column: 0,
            reason: reason.into(),
            unsupported: false,
        }
    }

    /// A document the Sigma library refused.
    pub fn from_sigma(e: &vigil_sigma::Error) -> Self {
        match e {
            vigil_sigma::Error::Rule {
                path,
                location,
                msg,
            } => Self {
                path: path.clone(),
                line: location.line,
                column: location.column,
                reason: msg.clone(),
                unsupported: false,
            },
            vigil_sigma::Error::Unsupported {
                path,
                location,
                reason,
            } => Self {
                path: path.clone(),
                line: location.line,
                column: location.column,
                reason: reason.clone(),
                unsupported: true,
            },
            other => Self::file(other.path(), other.to_string()),
        }
    }
}

/// What the last build left out; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct RuleLoadErrors {
    inner: Arc<RwLock<Report>>,
}

#[derive(Debug, Default)]
struct Report {
    errors: Vec<RuleLoadError>,
    total: usize,
    at: Option<Timestamp>,
}

impl RuleLoadErrors {
    /// Replaces the report with the errors of a build finished at `at`
    /// (at most 10 000 are kept; [`RuleLoadErrors::snapshot`] tells the
    /// total).
    pub fn replace(&self, mut errors: Vec<RuleLoadError>, at: Timestamp) {
        let total = errors.len();
        errors.truncate(MAX_ERRORS);
        *self.inner.write() = Report {
            errors,
            total,
            at: Some(at),
        };
    }

    /// The errors kept, how many there were, and when the build ran
    /// (`None` before the first build).
    pub fn snapshot(&self) -> (Vec<RuleLoadError>, usize, Option<Timestamp>) {
        let r = self.inner.read();
        (r.errors.clone(), r.total, r.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_build() {
        let e = RuleLoadErrors::default();
        assert_eq!(e.snapshot().2, None);
        let (_, errs) = vigil_sigma::RuleSet::load(
            [(
                "bad.yml",
                "title: t\nlogsource: {product: windows}\ndetection: {sel: {EventID: 1}, condition: nope}\n",
            )],
            &vigil_model::FieldRegistry::new(),
            &vigil_sigma::Config::default(),
        );
        let first: Vec<_> = errs.iter().map(RuleLoadError::from_sigma).collect();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].path, "bad.yml");
        e.replace(first, Timestamp::from_secs(1));
        e.replace(
            vec![RuleLoadError::file("/x", "unreadable")],
            Timestamp::from_secs(2),
        );
        let (errors, total, at) = e.snapshot();
        assert_eq!((errors.len(), total), (1, 1));
        assert_eq!(errors[0].reason, "unreadable");
        assert_eq!(at, Some(Timestamp::from_secs(2)));
    }
}
