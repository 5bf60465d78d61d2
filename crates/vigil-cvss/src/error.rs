//! The crate's one error type: what is wrong with a vector or a decision
//! value, and where (byte offset into the input).

/// Why a CVSS vector or an SSVC value was rejected.
///
/// `position` is the 0-based byte offset of the offending component in the
/// input string, so a caller can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is empty.
    #[error("empty vector")]
    Empty,
    /// A `CVSS:x.y/` prefix naming a version this crate does not know.
    #[error(
        "at byte {position}: unsupported CVSS version {version:?} (expected 3.0, 3.1 or 4.0, or no prefix for v2)"
    )]
    UnknownVersion {
        /// Offset of the prefix.
        position: usize,
        /// The version text after `CVSS:`.
        version: String,
    },
    /// A component that is not `METRIC:VALUE` (empty, no colon, two colons).
    #[error("at byte {position}: malformed component {component:?} (expected METRIC:VALUE)")]
    Malformed {
        /// Offset of the component.
        position: usize,
        /// The component text.
        component: String,
    },
    /// A metric name the version does not define.
    #[error("at byte {position}: unknown metric {metric:?} for CVSS {version}")]
    UnknownMetric {
        /// Offset of the component.
        position: usize,
        /// The metric name as written.
        metric: String,
        /// The CVSS version being parsed.
        version: &'static str,
    },
    /// A value the metric does not allow.
    #[error("at byte {position}: invalid value {value:?} for metric {metric} (allowed: {allowed})")]
    InvalidValue {
        /// Offset of the component.
        position: usize,
        /// The metric.
        metric: &'static str,
        /// The value as written.
        value: String,
        /// The allowed values, `/`-separated.
        allowed: String,
    },
    /// The same metric twice.
    #[error("at byte {position}: duplicate metric {metric}")]
    Duplicate {
        /// Offset of the second occurrence.
        position: usize,
        /// The metric.
        metric: &'static str,
    },
    /// A CVSS v4.0 metric out of the specification's order.
    #[error(
        "at byte {position}: metric {metric} out of order (CVSS 4.0 requires the specification's metric order)"
    )]
    OutOfOrder {
        /// Offset of the component.
        position: usize,
        /// The metric.
        metric: &'static str,
    },
    /// Mandatory (base) metrics absent.
    #[error("missing mandatory metric(s) {missing} for CVSS {version}")]
    Missing {
        /// The missing metrics, comma-separated.
        missing: String,
        /// The CVSS version being parsed.
        version: &'static str,
    },
    /// An SSVC decision-point value that is not one of the point's values.
    #[error("invalid value {value:?} for SSVC decision point {point} (allowed: {allowed})")]
    InvalidDecisionValue {
        /// The decision point's name.
        point: &'static str,
        /// The value as written.
        value: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
