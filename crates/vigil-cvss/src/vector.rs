//! A CVSS vector of any supported version: parsing by prefix, scores, and
//! the derived yes/no facts prioritisation needs (SSVC "Automatable").

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::score::{Score, Severity};
use crate::v2::{Cvss2, Scores2};
use crate::v3::{Cvss3, Minor, Scores3};
use crate::v4::{Cvss4, Scores4};

/// A CVSS specification version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// CVSS v2.0 (vectors without prefix).
    V2_0,
    /// CVSS v3.0 (`CVSS:3.0/`).
    V3_0,
    /// CVSS v3.1 (`CVSS:3.1/`).
    V3_1,
    /// CVSS v4.0 (`CVSS:4.0/`).
    V4_0,
}

impl Version {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2_0 => "2.0",
            Version::V3_0 => "3.0",
            Version::V3_1 => "3.1",
            Version::V4_0 => "4.0",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed CVSS vector. `FromStr` picks the version from the prefix:
/// `CVSS:3.0/`, `CVSS:3.1/`, `CVSS:4.0/`, or none for v2.
///
/// ```
/// use vigil_cvss::{Severity, Vector};
///
/// let v: Vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".parse()?;
/// assert_eq!(v.scores().base().to_string(), "9.8");
/// assert_eq!(v.scores().severity(), Severity::Critical);
/// assert!(v.automatable_hint());
///
/// let err = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1"
///     .parse::<Vector>()
///     .unwrap_err();
/// assert_eq!(err.to_string(), "at byte 45: unknown metric \"ZZ\" for CVSS 3.1");
/// # Ok::<(), vigil_cvss::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Vector {
    /// CVSS v2.
    V2(Cvss2),
    /// CVSS v3.0 or v3.1.
    V3(Cvss3),
    /// CVSS v4.0.
    V4(Cvss4),
}

/// The scores of a vector, by version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scores {
    /// v2: base, temporal, environmental.
    V2(Scores2),
    /// v3.x: base, temporal, environmental.
    V3(Scores3),
    /// v4.0: CVSS-B, CVSS-BT, CVSS-BE, CVSS-BTE.
    V4(Scores4),
}

impl Scores {
    /// The base score (v4.0: CVSS-B).
    pub fn base(&self) -> Score {
        match self {
            Scores::V2(s) => s.base,
            Scores::V3(s) => s.base,
            Scores::V4(s) => s.base,
        }
    }

    /// The most specific score the vector has: environmental, else
    /// temporal, else base (v2); environmental (v3.x, which equals the
    /// base score when nothing else is defined); the score of the vector as
    /// written (v4.0).
    pub fn overall(&self) -> Score {
        match self {
            Scores::V2(s) => s.environmental.or(s.temporal).unwrap_or(s.base),
            Scores::V3(s) => s.environmental,
            Scores::V4(s) => s.score(),
        }
    }

    /// The severity of [`Scores::overall`] on the version's scale.
    pub fn severity(&self) -> Severity {
        match self {
            Scores::V2(_) => Severity::from_v2_score(self.overall()),
            _ => Severity::from_score(self.overall()),
        }
    }

    /// The severity of `score` on this version's scale.
    pub fn rate(&self, score: Score) -> Severity {
        match self {
            Scores::V2(_) => Severity::from_v2_score(score),
            _ => Severity::from_score(score),
        }
    }
}

impl Vector {
    /// The specification version.
    pub fn version(&self) -> Version {
        match self {
            Vector::V2(_) => Version::V2_0,
            Vector::V3(v) if v.minor() == Minor::V30 => Version::V3_0,
            Vector::V3(_) => Version::V3_1,
            Vector::V4(_) => Version::V4_0,
        }
    }

    /// Every score of the vector.
    pub fn scores(&self) -> Scores {
        match self {
            Vector::V2(v) => Scores::V2(v.scores()),
            Vector::V3(v) => Scores::V3(v.scores()),
            Vector::V4(v) => Scores::V4(v.scores()),
        }
    }

    /// The value of a metric as written (`"N"` for `AV`), if present.
    pub fn get(&self, metric: &str) -> Option<&'static str> {
        match self {
            Vector::V2(v) => v.get(metric),
            Vector::V3(v) => v.get(metric),
            Vector::V4(v) => v.get(metric),
        }
    }

    /// Attack Vector (v2: Access Vector) is Network.
    pub fn attack_vector_network(&self) -> bool {
        self.get("AV") == Some("N")
    }

    /// Attack (v2: Access) Complexity is Low.
    pub fn attack_complexity_low(&self) -> bool {
        self.get("AC") == Some("L")
    }

    /// Attack Requirements is None (v4.0); always true for versions without
    /// that metric.
    pub fn attack_requirements_none(&self) -> bool {
        match self {
            Vector::V4(v) => v.get("AT") == Some("N"),
            _ => true,
        }
    }

    /// Privileges Required is None (v2: Authentication is None).
    pub fn privileges_required_none(&self) -> bool {
        match self {
            Vector::V2(v) => v.get("Au") == Some("N"),
            _ => self.get("PR") == Some("N"),
        }
    }

    /// User Interaction is None. CVSS v2 has no such metric; it counts as
    /// none.
    pub fn user_interaction_none(&self) -> bool {
        match self {
            Vector::V2(_) => true,
            _ => self.get("UI") == Some("N"),
        }
    }

    /// A heuristic for SSVC's "Automatable" decision point: the base
    /// metrics say an attacker can exploit it over the network, with low
    /// complexity, no attack requirements, no privileges and no user
    /// interaction — steps 1–4 of the kill chain need no human. Evidence
    /// from threat intelligence should override it.
    pub fn automatable_hint(&self) -> bool {
        self.attack_vector_network()
            && self.attack_complexity_low()
            && self.attack_requirements_none()
            && self.privileges_required_none()
            && self.user_interaction_none()
    }
}

impl FromStr for Vector {
    type Err = Error;

    fn from_str(s: &str) -> Result<Vector> {
        if s.is_empty() {
            return Err(Error::Empty);
        }
        let Some(rest) = s.strip_prefix("CVSS:") else {
            return Cvss2::parse_at(s, 0).map(Vector::V2);
        };
        let (version, body, offset) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..], 5 + i + 1),
            None => (rest, "", s.len()),
        };
        match version {
            "3.0" => Cvss3::parse_body(Minor::V30, body, offset).map(Vector::V3),
            "3.1" => Cvss3::parse_body(Minor::V31, body, offset).map(Vector::V3),
            "4.0" => Cvss4::parse_body(body, offset).map(Vector::V4),
            _ => Err(Error::UnknownVersion {
                position: 0,
                version: version.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Vector {
    /// The canonical vector: metrics in the specification's order, undefined
    /// optional metrics left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Vector::V2(v) => v.fmt(f),
            Vector::V3(v) => v.fmt(f),
            Vector::V4(v) => v.fmt(f),
        }
    }
}
