//! SSVC decision points and outcome sets as enums: each value has SSVC's
//! key (`P`) and name (`Public PoC`); parsing accepts either,
//! case-insensitively.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

macro_rules! decision_point {
    (
        $(#[$doc:meta])*
        $name:ident, $label:literal, [$($(#[$vdoc:meta])* $variant:ident = ($key:literal, $vname:literal)),+ $(,)?]
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, least to most severe.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// SSVC's short key for the value.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// SSVC's name for the value.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $vname),+ }
            }

            /// Position in [`Self::ALL`] (0 = least severe).
            pub fn rank(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<$name> {
                let t = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name().eq_ignore_ascii_case(t) || v.key().eq_ignore_ascii_case(t))
                    .ok_or_else(|| Error::InvalidDecisionValue {
                        point: $label,
                        value: s.to_owned(),
                        allowed: $name::ALL
                            .iter()
                            .map(|v| v.name())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }
    };
}

decision_point!(
    /// Exploitation (SSVC 1.1.0): evidence of active exploitation.
    Exploitation, "Exploitation", [
        /// No evidence of active exploitation and no public proof of concept.
        None = ("N", "None"),
        /// A public proof of concept or well-known exploitation method exists.
        PublicPoc = ("P", "Public PoC"),
        /// Shared, reliable evidence of exploitation in the wild.
        Active = ("A", "Active"),
    ]
);

decision_point!(
    /// System Exposure (SSVC 1.0.1): the system's accessible attack surface.
    SystemExposure, "System Exposure", [
        /// Local service or program; highly controlled network.
        Small = ("S", "Small"),
        /// Networked service with some access restrictions or mitigations.
        Controlled = ("C", "Controlled"),
        /// Internet or another widely accessible network.
        Open = ("O", "Open"),
    ]
);

decision_point!(
    /// Automatable (SSVC 2.0.0): can steps 1–4 of the kill chain be
    /// reliably automated?
    Automatable, "Automatable", [
        /// No.
        No = ("N", "No"),
        /// Yes.
        Yes = ("Y", "Yes"),
    ]
);

decision_point!(
    /// Human Impact (SSVC 2.0.2): Safety and Mission impact combined.
    HumanImpact, "Human Impact", [
        /// Low.
        Low = ("L", "Low"),
        /// Medium.
        Medium = ("M", "Medium"),
        /// High.
        High = ("H", "High"),
        /// Very High.
        VeryHigh = ("VH", "Very High"),
    ]
);

decision_point!(
    /// Safety Impact (SSVC 2.0.1).
    SafetyImpact, "Safety Impact", [
        /// Negligible.
        Negligible = ("N", "Negligible"),
        /// Marginal.
        Marginal = ("M", "Marginal"),
        /// Critical.
        Critical = ("R", "Critical"),
        /// Catastrophic.
        Catastrophic = ("C", "Catastrophic"),
    ]
);

decision_point!(
    /// Mission Impact (SSVC 2.0.0), in terms of Mission Essential Functions.
    MissionImpact, "Mission Impact", [
        /// Degraded.
        Degraded = ("D", "Degraded"),
        /// MEF Support Crippled.
        MefSupportCrippled = ("MSC", "MEF Support Crippled"),
        /// MEF Failure.
        MefFailure = ("MEF", "MEF Failure"),
        /// Mission Failure.
        MissionFailure = ("MF", "Mission Failure"),
    ]
);

decision_point!(
    /// Technical Impact (SSVC 1.0.0): control the exploit gives.
    TechnicalImpact, "Technical Impact", [
        /// Partial control or information exposure.
        Partial = ("P", "Partial"),
        /// Total control of the software's behaviour or total disclosure.
        Total = ("T", "Total"),
    ]
);

decision_point!(
    /// Mission and Well-Being Impact (SSVC 1.0.0), CISA's combination.
    MissionWellBeing, "Mission and Well-Being Impact", [
        /// Low.
        Low = ("L", "Low"),
        /// Medium.
        Medium = ("M", "Medium"),
        /// High.
        High = ("H", "High"),
    ]
);

decision_point!(
    /// The deployer's patch application priority (SSVC outcome set
    /// "Defer, Scheduled, Out-of-Cycle, Immediate" 1.0.0).
    DeployerPriority, "Defer, Scheduled, Out-of-Cycle, Immediate", [
        /// Do not act at present.
        Defer = ("D", "Defer"),
        /// Act during regularly scheduled maintenance.
        Scheduled = ("S", "Scheduled"),
        /// Act more quickly than usual, out of the regular cycle.
        OutOfCycle = ("O", "Out-of-Cycle"),
        /// Act immediately, with all resources.
        Immediate = ("I", "Immediate"),
    ]
);

decision_point!(
    /// CISA's coordinator levels (CISA Levels 1.1.0).
    CisaLevel, "CISA Levels", [
        /// Track: remediate within standard timelines.
        Track = ("T", "Track"),
        /// Track*: track closely, some characteristics warrant monitoring.
        TrackStar = ("T*", "Track*"),
        /// Attend: senior attention, remediate sooner than standard.
        Attend = ("AT", "Attend"),
        /// Act: leadership attention, remediate as soon as possible.
        Act = ("AC", "Act"),
    ]
);

impl Automatable {
    /// From a CVSS vector's base metrics ([`crate::Vector::automatable_hint`]):
    /// network, low complexity, no attack requirements, privileges or user
    /// interaction. A heuristic; threat intelligence should override it.
    pub fn from_cvss(v: &crate::Vector) -> Automatable {
        if v.automatable_hint() {
            Automatable::Yes
        } else {
            Automatable::No
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_keys() {
        assert_eq!("public poc".parse(), Ok(Exploitation::PublicPoc));
        assert_eq!("P".parse(), Ok(Exploitation::PublicPoc));
        assert_eq!("very high".parse(), Ok(HumanImpact::VeryHigh));
        assert_eq!("out-of-cycle".parse(), Ok(DeployerPriority::OutOfCycle));
        assert_eq!("track*".parse(), Ok(CisaLevel::TrackStar));
        assert_eq!(HumanImpact::VeryHigh.to_string(), "Very High");
        let v: crate::Vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
            .parse()
            .unwrap();
        assert_eq!(Automatable::from_cvss(&v), Automatable::Yes);
        let v: crate::Vector = "AV:N/AC:M/Au:N/C:P/I:P/A:P".parse().unwrap();
        assert_eq!(Automatable::from_cvss(&v), Automatable::No);
        let err = "sometimes".parse::<Automatable>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value \"sometimes\" for SSVC decision point Automatable (allowed: No, Yes)"
        );
    }
}
