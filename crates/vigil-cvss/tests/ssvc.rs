//! Our SSVC decisions agree with every row of CERT/CC's decision tables in
//! `$VIGIL_TESTDATA/ssvc/csv`: the deployer table, CISA's coordinator table
//! and the Human Impact table. Skipped (and passing) when `VIGIL_TESTDATA`
//! is unset.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::str::FromStr;

use vigil_cvss::ssvc::{
    Automatable, CisaLevel, DeployerPriority, Exploitation, HumanImpact, MissionImpact,
    MissionWellBeing, SafetyImpact, SystemExposure, TechnicalImpact, cisa_level, deployer_priority,
    human_impact,
};

/// The rows of a table as cells (no quoted commas inside data rows). A
/// missing file fails the test unless `optional`.
fn rows_of(rel: &str, optional: bool) -> Option<Vec<Vec<String>>> {
    let Some(dir) = std::env::var_os("VIGIL_TESTDATA") else {
        println!("skipped: VIGIL_TESTDATA not set");
        return None;
    };
    let path = PathBuf::from(dir).join("ssvc/csv").join(rel);
    if optional && !path.exists() {
        println!("skipped: {} absent", path.display());
        return None;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(
        text.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split(',').map(|c| c.trim().to_owned()).collect())
            .collect(),
    )
}

fn rows(rel: &str) -> Option<Vec<Vec<String>>> {
    rows_of(rel, false)
}

fn p<T: FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

#[test]
fn deployer_table_every_row() {
    let Some(rows) = rows("ssvc/deployer_patch_application_priority_1_0_0.csv") else {
        return;
    };
    for r in &rows {
        let got = deployer_priority(
            p::<Exploitation>(&r[1]),
            p::<SystemExposure>(&r[2]),
            p::<Automatable>(&r[3]),
            p::<HumanImpact>(&r[4]),
        );
        assert_eq!(got, p::<DeployerPriority>(&r[5]), "row {r:?}");
    }
    println!("SSVC deployer: {} rows agree", rows.len());
    assert_eq!(rows.len(), 72);
}

#[test]
fn cisa_coordinator_table_every_row() {
    let Some(rows) = rows_of("cisa/cisa_coordinator_2_0_3.csv", true) else {
        return;
    };
    for r in &rows {
        let got = cisa_level(
            p::<Exploitation>(&r[1]),
            p::<Automatable>(&r[2]),
            p::<TechnicalImpact>(&r[3]),
            p::<MissionWellBeing>(&r[4]),
        );
        assert_eq!(got, p::<CisaLevel>(&r[5]), "row {r:?}");
    }
    println!("CISA coordinator: {} rows agree", rows.len());
    assert_eq!(rows.len(), 36);
}

#[test]
fn human_impact_table_every_row() {
    let Some(rows) = rows("ssvc/human_impact_1_0_0.csv") else {
        return;
    };
    for r in &rows {
        let got = human_impact(p::<SafetyImpact>(&r[1]), p::<MissionImpact>(&r[2]));
        assert_eq!(got, p::<HumanImpact>(&r[3]), "row {r:?}");
    }
    println!("SSVC human impact: {} rows agree", rows.len());
    assert_eq!(rows.len(), 16);
}

/// The Human Impact 2.0.2 value definitions (prose) disagree with the
/// decision table on Marginal safety impact; we follow the table, which is
/// what SSVC evaluates. Pinned here so a change of either side is noticed.
#[test]
fn human_impact_follows_the_table_not_the_prose_for_marginal_safety() {
    use MissionImpact::*;
    // Prose: Medium. Table: Low.
    assert_eq!(
        human_impact(SafetyImpact::Marginal, Degraded),
        HumanImpact::Low
    );
    assert_eq!(
        human_impact(SafetyImpact::Marginal, MefSupportCrippled),
        HumanImpact::Low
    );
    // Prose: High. Table: Medium.
    assert_eq!(
        human_impact(SafetyImpact::Marginal, MefFailure),
        HumanImpact::Medium
    );
}
