//! Scores (exact tenths, 0.0 to 10.0) and qualitative severity ratings.

use std::fmt;

/// A CVSS score: 0.0 to 10.0 in steps of 0.1, stored exactly as tenths so
/// comparisons never meet floating-point noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Score(u8);

impl Score {
    /// 0.0.
    pub const ZERO: Score = Score(0);
    /// 10.0.
    pub const MAX: Score = Score(100);

    /// From tenths, clamped to 0..=100.
    pub fn from_tenths(tenths: i64) -> Score {
        // The clamp makes the cast lossless.
        Score(tenths.clamp(0, 100) as u8)
    }

    /// The score in tenths (0..=100).
    pub fn tenths(self) -> u8 {
        self.0
    }

    /// The score as a float (exactly the nearest `f64` to `tenths / 10`).
    pub fn value(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// Qualitative severity rating.
///
/// CVSS v3.x and v4.0 use FIRST's scale: None 0.0, Low 0.1–3.9, Medium
/// 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0 ([`Severity::from_score`]).
/// CVSS v2 has no official scale; NVD's is used: Low 0.0–3.9, Medium
/// 4.0–6.9, High 7.0–10.0 ([`Severity::from_v2_score`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// 0.0 (v3.x/v4.0 only).
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical (v3.x/v4.0 only).
    Critical,
}

impl Severity {
    /// FIRST's CVSS v3.x / v4.0 rating scale.
    pub fn from_score(s: Score) -> Severity {
        match s.tenths() {
            0 => Severity::None,
            1..=39 => Severity::Low,
            40..=69 => Severity::Medium,
            70..=89 => Severity::High,
            _ => Severity::Critical,
        }
    }

    /// NVD's CVSS v2 rating scale (no None, no Critical).
    pub fn from_v2_score(s: Score) -> Severity {
        match s.tenths() {
            0..=39 => Severity::Low,
            40..=69 => Severity::Medium,
            _ => Severity::High,
        }
    }

    /// The name as FIRST writes it: `None`, `Low`, `Medium`, `High`,
    /// `Critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "None",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(tenths: i64, shown: &str, v3: Severity, v2: Severity) {
        let s = Score::from_tenths(tenths);
        assert_eq!(s.to_string(), shown);
        assert_eq!(Severity::from_score(s), v3, "{shown}");
        assert_eq!(Severity::from_v2_score(s), v2, "{shown}");
    }

    #[test]
    fn scales() {
        use Severity::*;
        check(0, "0.0", None, Low);
        check(1, "0.1", Low, Low);
        check(39, "3.9", Low, Low);
        check(40, "4.0", Medium, Medium);
        check(69, "6.9", Medium, Medium);
        check(70, "7.0", High, High);
        check(89, "8.9", High, High);
        check(90, "9.0", Critical, High);
        check(100, "10.0", Critical, High);
        check(150, "10.0", Critical, High);
        check(-3, "0.0", None, Low);
    }
}
