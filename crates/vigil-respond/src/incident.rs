//! Incident statuses (NIST SP 800-61 phases) and alert triage states, with
//! the transitions each allows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Status of an incident, following the NIST SP 800-61 life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Opened, nobody has looked yet.
    New,
    /// Detection and analysis.
    Triage,
    /// Containment.
    Containment,
    /// Eradication.
    Eradication,
    /// Recovery.
    Recovery,
    /// Post-incident activity (lessons learned).
    PostIncidentReview,
    /// Closed.
    Closed,
}

impl IncidentStatus {
    /// Every status in life-cycle order.
    pub const ALL: [Self; 7] = [
        Self::New,
        Self::Triage,
        Self::Containment,
        Self::Eradication,
        Self::Recovery,
        Self::PostIncidentReview,
        Self::Closed,
    ];

    /// Wire name (`post_incident_review`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Triage => "triage",
            Self::Containment => "containment",
            Self::Eradication => "eradication",
            Self::Recovery => "recovery",
            Self::PostIncidentReview => "post_incident_review",
            Self::Closed => "closed",
        }
    }

    /// Whether the incident counts as contained (for MTTC): containment is
    /// done once it moved past the containment phase.
    pub fn is_contained(self) -> bool {
        self >= Self::Eradication
    }

    /// Checks a status change. Moving forward any number of phases is
    /// allowed (a small incident may go straight from triage to closed);
    /// moving back is allowed one phase at a time to correct a mistake, and
    /// a closed incident may be reopened into triage.
    pub fn check_transition(self, to: Self) -> Result<()> {
        if to == self {
            return Err(Error::Config(format!("incident is already {self}")));
        }
        let ok = to > self
            || (self == Self::Closed && to == Self::Triage)
            || (self != Self::Closed && (self as u8).saturating_sub(1) == to as u8);
        if ok {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "an incident cannot go from {self} to {to}; go back one phase at a time or reopen a closed incident into triage"
            )))
        }
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IncidentStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == norm)
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown incident status {s:?}; one of new, triage, containment, eradication, recovery, post_incident_review, closed"
                ))
            })
    }
}

/// Triage state of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageState {
    /// Not looked at.
    New,
    /// Someone is on it.
    Acknowledged,
    /// Handed to an incident or a senior analyst.
    Escalated,
    /// Not a real threat.
    FalsePositive,
    /// Done.
    Closed,
}

impl TriageState {
    /// Every state.
    pub const ALL: [Self; 5] = [
        Self::New,
        Self::Acknowledged,
        Self::Escalated,
        Self::FalsePositive,
        Self::Closed,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Acknowledged => "acknowledged",
            Self::Escalated => "escalated",
            Self::FalsePositive => "false_positive",
            Self::Closed => "closed",
        }
    }

    /// Whether the alert still needs work.
    pub fn is_open(self) -> bool {
        matches!(self, Self::New | Self::Acknowledged | Self::Escalated)
    }

    /// Checks a change: any open state may go to any other state; a
    /// resolved alert (closed, false positive) may only be reopened as
    /// acknowledged.
    pub fn check_transition(self, to: Self) -> Result<()> {
        if self == to {
            return Err(Error::Config(format!("alert is already {self}")));
        }
        if self.is_open() || to == Self::Acknowledged {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "a {self} alert can only be reopened (acknowledged), not set to {to}"
            )))
        }
    }
}

impl fmt::Display for TriageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TriageState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let norm = match norm.as_str() {
            "ack" => "acknowledged".to_string(),
            "fp" => "false_positive".to_string(),
            _ => norm,
        };
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == norm)
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown triage state {s:?}; one of new, acknowledged, escalated, false_positive, closed"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentStatus::*;

    #[test]
    fn incident_transitions() {
        assert!(New.check_transition(Triage).is_ok());
        assert!(Triage.check_transition(Closed).is_ok());
        assert!(Eradication.check_transition(Containment).is_ok());
        assert!(Eradication.check_transition(Triage).is_err());
        assert!(Closed.check_transition(Triage).is_ok());
        assert!(Closed.check_transition(PostIncidentReview).is_err());
        assert!(Triage.check_transition(Triage).is_err());
        assert!(!Containment.is_contained());
        assert!(Eradication.is_contained());
    }

    #[test]
    fn names_round_trip() {
        for s in IncidentStatus::ALL {
            assert_eq!(s.as_str().parse::<IncidentStatus>().unwrap(), s);
        }
        assert_eq!(
            "Post-Incident Review".parse::<IncidentStatus>().unwrap(),
            PostIncidentReview
        );
        for s in TriageState::ALL {
            assert_eq!(s.as_str().parse::<TriageState>().unwrap(), s);
        }
        assert_eq!(
            "fp".parse::<TriageState>().unwrap(),
            TriageState::FalsePositive
        );
        assert!(
            "bogus"
                .parse::<TriageState>()
                .unwrap_err()
                .to_string()
                .contains("one of")
        );
    }

    #[test]
    fn triage_transitions() {
        use TriageState as T;
        assert!(T::New.check_transition(T::Acknowledged).is_ok());
        assert!(T::Acknowledged.check_transition(T::FalsePositive).is_ok());
        assert!(T::Closed.check_transition(T::Acknowledged).is_ok());
        assert!(T::Closed.check_transition(T::Escalated).is_err());
        assert!(T::FalsePositive.check_transition(T::Closed).is_err());
    }
}
