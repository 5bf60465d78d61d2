//! Human Impact from Safety Impact and Mission Impact (SSVC decision table
//! "Human Impact" 1.0.0, giving Human Impact 2.0.2).
//!
//! The table, not the prose of the Human Impact 2.0.2 value definitions, is
//! followed where the two disagree: the prose puts Marginal safety with a
//! Degraded or Crippled mission at Medium and Marginal with MEF Failure at
//! High; the table says Low and Medium. The table is what SSVC's tooling
//! evaluates and what the tests pin (see `tests/ssvc.rs`).

use super::points::{HumanImpact, MissionImpact, SafetyImpact};

const L: HumanImpact = HumanImpact::Low;
const M: HumanImpact = HumanImpact::Medium;
const H: HumanImpact = HumanImpact::High;
const VH: HumanImpact = HumanImpact::VeryHigh;

/// `[safety]` → Human Impact by Mission Impact (Degraded, MEF Support
/// Crippled, MEF Failure, Mission Failure).
const TABLE: [[HumanImpact; 4]; 4] = [
    [L, L, M, VH],    // Negligible
    [L, L, M, VH],    // Marginal
    [M, H, H, VH],    // Critical
    [VH, VH, VH, VH], // Catastrophic
];

/// Human Impact for a Safety and a Mission Impact.
pub fn human_impact(safety: SafetyImpact, mission: MissionImpact) -> HumanImpact {
    TABLE[safety.rank()][mission.rank()]
}
