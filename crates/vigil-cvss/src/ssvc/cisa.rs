//! CISA's coordinator decision table (SSVC "CISA Coordinator" 2.0.3):
//! Exploitation × Automatable × Technical Impact × Mission and Well-Being
//! Impact → Track / Track* / Attend / Act.

use super::points::{Automatable, CisaLevel, Exploitation, MissionWellBeing, TechnicalImpact};

const T: CisaLevel = CisaLevel::Track;
const TS: CisaLevel = CisaLevel::TrackStar;
const AT: CisaLevel = CisaLevel::Attend;
const AC: CisaLevel = CisaLevel::Act;

/// `[exploitation][automatable][technical impact]` → level by Mission and
/// Well-Being Impact (Low, Medium, High).
const TABLE: [[[[CisaLevel; 3]; 2]; 2]; 3] = [
    // Exploitation: None. Not automatable (partial, total), automatable.
    [[[T, T, T], [T, T, TS]], [[T, T, AT], [T, T, AT]]],
    // Exploitation: Public PoC.
    [[[T, T, TS], [T, TS, AT]], [[T, T, AT], [T, TS, AT]]],
    // Exploitation: Active.
    [[[T, T, AT], [T, AT, AC]], [[AT, AT, AC], [AT, AC, AC]]],
];

/// CISA's coordinator level.
pub fn cisa_level(
    exploitation: Exploitation,
    automatable: Automatable,
    technical_impact: TechnicalImpact,
    mission_well_being: MissionWellBeing,
) -> CisaLevel {
    TABLE[exploitation.rank()][automatable.rank()][technical_impact.rank()]
        [mission_well_being.rank()]
}
