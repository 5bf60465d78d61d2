//! The shared vocabulary of every score: a [`Factor`] is one named input
//! with its value, weight and contribution; a [`Score`] is a 0–100 number
//! with its 5-level band ([`Level5`]) and the factors that produced it.

use serde::{Deserialize, Serialize};

/// One input of a score: `points = value × weight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Short name (`sector`, `region`, `gaps`, …).
    pub name: String,
    /// The input's value, 0–1.
    pub value: f64,
    /// Its weight (points at value 1).
    pub weight: f64,
    /// `value × weight`, rounded to 0.01.
    pub points: f64,
    /// Why the value is what it is (names the evidence).
    pub reason: String,
}

impl Factor {
    /// A factor; `value` is clamped to 0–1.
    pub fn new(name: &str, value: f64, weight: f64, reason: impl Into<String>) -> Self {
        let value = if value.is_finite() {
            value.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Factor {
            name: name.to_string(),
            value: round2(value),
            weight,
            points: round2(value * weight),
            reason: reason.into(),
        }
    }
}

/// Rounds to two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The 5-level qualitative scale (NIST SP 800-30 / ISO 27005 style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level5 {
    /// 1: very low.
    VeryLow,
    /// 2: low.
    Low,
    /// 3: moderate.
    Moderate,
    /// 4: high.
    High,
    /// 5: very high.
    VeryHigh,
}

impl Level5 {
    /// The band of a 0–100 value: [0,20) very low, [20,40) low, [40,60)
    /// moderate, [60,80) high, [80,100] very high.
    pub fn of(value: f64) -> Level5 {
        match value {
            v if v >= 80.0 => Level5::VeryHigh,
            v if v >= 60.0 => Level5::High,
            v if v >= 40.0 => Level5::Moderate,
            v if v >= 20.0 => Level5::Low,
            _ => Level5::VeryLow,
        }
    }

    /// 1–5.
    pub fn rank(self) -> u8 {
        match self {
            Level5::VeryLow => 1,
            Level5::Low => 2,
            Level5::Moderate => 3,
            Level5::High => 4,
            Level5::VeryHigh => 5,
        }
    }

    /// `very low` … `very high`.
    pub fn label(self) -> &'static str {
        match self {
            Level5::VeryLow => "very low",
            Level5::Low => "low",
            Level5::Moderate => "moderate",
            Level5::High => "high",
            Level5::VeryHigh => "very high",
        }
    }
}

/// A 0–100 score with its band and inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Sum of the factors' points, 0–100, rounded to 0.01.
    pub value: f64,
    /// Its band.
    pub level: Level5,
    /// 1–5 (the band's rank).
    pub rank: u8,
    /// The inputs, in the documented order.
    pub factors: Vec<Factor>,
}

impl Score {
    /// The score of `factors` (their points summed and clamped to 0–100).
    pub fn of(factors: Vec<Factor>) -> Score {
        let v: f64 = factors.iter().map(|f| f.points).sum();
        let value = round2(v.clamp(0.0, 100.0));
        let level = Level5::of(value);
        Score {
            value,
            level,
            rank: level.rank(),
            factors,
        }
    }
}

/// The risk level of a likelihood × impact product (1–25): 1–4 low, 5–9
/// medium, 10–16 high, 20–25 critical.
pub fn risk_level(product: u8) -> &'static str {
    match product {
        0..=4 => "low",
        5..=9 => "medium",
        10..=16 => "high",
        _ => "critical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        let b: Vec<u8> = [0.0, 19.99, 20.0, 39.9, 40.0, 60.0, 79.99, 80.0, 100.0]
            .iter()
            .map(|v| Level5::of(*v).rank())
            .collect();
        assert_eq!(b, [1, 1, 2, 2, 3, 4, 4, 5, 5]);
        assert_eq!(risk_level(4 * 4), "high");
        assert_eq!(risk_level(5 * 4), "critical");
        assert_eq!(risk_level(3 * 3), "medium");
        let f = Factor::new("x", 1.7, 30.0, "");
        assert_eq!((f.value, f.points), (1.0, 30.0));
    }
}
