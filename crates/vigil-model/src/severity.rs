//! Alert severity, ordered from informational to critical.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad an alert is. Sigma's `level` values map one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

/// A severity name did not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid severity {0:?}: expected informational, low, medium, high or critical")]
pub struct SeverityParseError(String);

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// A small integer for storage and sorting (0 = informational).
    pub const fn rank(self) -> i16 {
        self as i16
    }

    /// The inverse of [`Severity::rank`].
    pub fn from_rank(r: i64) -> Option<Self> {
        Self::ALL.get(usize::try_from(r).ok()?).copied()
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = SeverityParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Severity::Informational),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(SeverityParseError(s.chars().take(32).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_and_rank_agree() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
            assert_eq!(Severity::from_rank(s.rank().into()), Some(s));
        }
        assert!(Severity::Low < Severity::Critical);
        assert!("bad".parse::<Severity>().is_err());
    }
}
