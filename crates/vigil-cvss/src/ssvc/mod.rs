//! SSVC (Stakeholder-Specific Vulnerability Categorization, CERT/CC)
//! decision tables, without I/O: decision-point values in, an outcome out.
//!
//! - [`deployer_priority`]: the deployer's patch application priority,
//!   Defer / Scheduled / Out-of-Cycle / Immediate.
//! - [`cisa_level`]: CISA's coordinator levels, Track / Track* / Attend /
//!   Act.
//! - [`human_impact`]: Human Impact from Safety and Mission Impact.
//!
//! Deriving the decision points from data (KEV, EPSS, asset exposure,
//! [`crate::Vector::automatable_hint`]) is the caller's job.

mod cisa;
mod deployer;
mod human_impact;
mod points;

pub use cisa::cisa_level;
pub use deployer::deployer_priority;
pub use human_impact::human_impact;
pub use points::{
    Automatable, CisaLevel, DeployerPriority, Exploitation, HumanImpact, MissionImpact,
    MissionWellBeing, SafetyImpact, SystemExposure, TechnicalImpact,
};
