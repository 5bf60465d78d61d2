//! The small hand-written fixture the unit tests share
//! (`tests/fixtures/bundle.json`, `tests/fixtures/threat-actor.json`):
//!
//! - techniques T1190, T1566 ⊃ T1566.001, T1059 ⊃ T1059.001;
//! - G0001 Alpha Bear (alias Sandy; description names CVE-2023-1111) uses
//!   T1190, T1566.001, T1059.001; campaign C0001 attributed to it, last
//!   seen 2026-08-29;
//! - G0002 Beta Panda uses T1566;
//! - M1050 mitigates T1190;
//! - galaxy: Sandy (→ G0001 by alias; victims Germany, Ukraine; Finance,
//!   Government), Beta Panda (→ G0002 by STIX UUID; Japan; Private
//!   sector), Gamma Kitten (new; Europe; Bank).

use vigil_intel::attack::AttackKnowledge;

use crate::actors::{self, Actor, Observations};
use crate::coverage::{CoverageIndex, RuleInfo};
use crate::dates::days_from_civil;
use crate::galaxy;
use crate::profile::Profile;
use crate::region::Geo;

pub const BUNDLE: &str = include_str!("../tests/fixtures/bundle.json");
pub const GALAXY: &str = include_str!("../tests/fixtures/threat-actor.json");

pub struct Fixture {
    pub attack: AttackKnowledge,
    pub actors: Vec<Actor>,
    pub profile: Profile,
    pub geo: Geo,
    pub obs: Observations,
    pub coverage: CoverageIndex,
    pub today: i64,
}

pub fn fixture() -> Fixture {
    let mut attack = AttackKnowledge::new();
    let r = attack.load(BUNDLE.as_bytes(), "fixture");
    assert!(r.is_ok_and(|r| r.errors.is_empty()));
    let (clusters, _) = galaxy::parse_clusters(GALAXY.as_bytes(), "fixture").unwrap_or_default();
    let actors = actors::build(attack.graph(), &clusters);
    let geo = Geo::builtin();
    let profile = Profile {
        sectors: vec!["financial".into()],
        countries: vec!["Germany".into()],
        regions: vec!["Europe".into()],
        ..Profile::default()
    };
    let mut obs = Observations::default();
    obs.technique_alerts.insert("T1059.001".into(), 4);
    let tags = |t: &[&str]| t.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let coverage = CoverageIndex::new(vec![
        RuleInfo::new(
            "r1",
            "Encoded PowerShell",
            Some("high"),
            Some("stable"),
            true,
            &tags(&["attack.t1059.001"]),
        ),
        RuleInfo::new(
            "r2",
            "Office macro attachment",
            Some("medium"),
            Some("test"),
            false,
            &tags(&["attack.t1566.001"]),
        ),
        RuleInfo::new(
            "r3",
            "Phishing link",
            Some("low"),
            Some("experimental"),
            true,
            &tags(&["attack.t1566"]),
        ),
    ]);
    Fixture {
        attack,
        actors,
        profile,
        geo,
        obs,
        coverage,
        today: days_from_civil(2026, 11, 27),
    }
}
