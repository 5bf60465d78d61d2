//! CERT/CC's deployer decision model (SSVC "Deployer Patch Application
//! Priority" 1.0.0): Exploitation × System Exposure × Automatable × Human
//! Impact → Defer / Scheduled / Out-of-Cycle / Immediate.

use super::points::{Automatable, DeployerPriority, Exploitation, HumanImpact, SystemExposure};

const D: DeployerPriority = DeployerPriority::Defer;
const S: DeployerPriority = DeployerPriority::Scheduled;
const O: DeployerPriority = DeployerPriority::OutOfCycle;
const I: DeployerPriority = DeployerPriority::Immediate;

/// `[exploitation][exposure][automatable]` → priority by Human Impact
/// (Low, Medium, High, Very High).
const TABLE: [[[[DeployerPriority; 4]; 2]; 3]; 3] = [
    // Exploitation: None.
    [
        [[D, D, S, S], [D, S, S, S]], // Small: not automatable, automatable
        [[D, S, S, S], [S, S, S, S]], // Controlled
        [[D, S, S, S], [S, S, S, O]], // Open
    ],
    // Exploitation: Public PoC.
    [
        [[D, S, S, S], [S, S, S, S]],
        [[D, S, S, S], [S, S, S, O]],
        [[S, S, S, O], [S, S, O, O]],
    ],
    // Exploitation: Active.
    [
        [[S, S, O, O], [S, O, O, O]],
        [[S, S, O, O], [O, O, O, O]],
        [[S, O, O, I], [O, O, I, I]],
    ],
];

/// The deployer's patch application priority.
///
/// ```
/// use vigil_cvss::ssvc::{deployer_priority, Automatable, DeployerPriority, Exploitation, HumanImpact, SystemExposure};
///
/// let p = deployer_priority(Exploitation::Active, SystemExposure::Open, Automatable::Yes, HumanImpact::High);
/// assert_eq!(p, DeployerPriority::Immediate);
/// ```
pub fn deployer_priority(
    exploitation: Exploitation,
    exposure: SystemExposure,
    automatable: Automatable,
    human_impact: HumanImpact,
) -> DeployerPriority {
    TABLE[exploitation.rank()][exposure.rank()][automatable.rank()][human_impact.rank()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More severe inputs never lower the priority.
    #[test]
    fn monotone_in_every_decision_point() {
        for &e in Exploitation::ALL {
            for &x in SystemExposure::ALL {
                for &a in Automatable::ALL {
                    for &h in HumanImpact::ALL {
                        let p = deployer_priority(e, x, a, h);
                        for &e2 in Exploitation::ALL.iter().filter(|v| **v >= e) {
                            for &x2 in SystemExposure::ALL.iter().filter(|v| **v >= x) {
                                for &a2 in Automatable::ALL.iter().filter(|v| **v >= a) {
                                    for &h2 in HumanImpact::ALL.iter().filter(|v| **v >= h) {
                                        assert!(deployer_priority(e2, x2, a2, h2) >= p);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
