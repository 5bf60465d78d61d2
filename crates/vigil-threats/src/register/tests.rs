use super::*;
use crate::testkit::fixture;

fn assets() -> Vec<Asset> {
    vec![
        Asset {
            id: "a-web".into(),
            name: "web1".into(),
            criticality: 4,
            exposure: "internet-facing".into(),
            data_classes: vec!["personal".into()],
        },
        Asset {
            id: "a-db".into(),
            name: "db1".into(),
            criticality: 5,
            exposure: "internal".into(),
            data_classes: vec!["payment".into()],
        },
    ]
}

#[test]
fn actor_scenario_is_pinned() {
    let mut f = fixture();
    f.profile.crown_jewels = vec!["db1".into()];
    let assets = assets();
    let findings = vec![Finding {
        id: "f1".into(),
        asset_id: "a-web".into(),
        ids: vec!["CVE-2023-1111".into(), "GHSA-xxxx".into()],
    }];
    let kev = BTreeSet::new();
    let inputs = Inputs {
        profile: &f.profile,
        geo: &f.geo,
        actors: &f.actors,
        attack: &f.attack,
        coverage: &f.coverage,
        observations: &f.obs,
        assets: &assets,
        findings: &findings,
        kev_ransomware: &kev,
        today: f.today,
    };
    let spec = ScenarioSpec {
        id: "s1".into(),
        title: "Alpha Bear intrusion".into(),
        actor: Some("sandy".into()),
        ..ScenarioSpec::default()
    };
    let s = inputs.assess_scenario(&spec);
    assert_eq!(s.actor.as_deref(), Some("G0001"));
    // Likelihood:
    //   threat   relevance 98.15 / 100 = 0.9815 × 35 = 34.35
    //   exposure f1 (CVE-2023-1111) on internet-facing web1: 1.0 × 25 = 25
    //   gaps     T1059.001 covered (r1: high × stable = 1.0; +0.25 alerts; cap 1) → 0
    //            T1190 gap (no rule) → 1, T1566.001 gap (r2 disabled) → 1
    //            (0 + 1 + 1) / 3 = 0.6667 × 25 = 16.67
    //   observed T1059.001 4 alerts: 1.0 × 15 = 15
    //   total 91.02 → very high (5)
    let pts: Vec<f64> = s.likelihood.factors.iter().map(|x| x.points).collect();
    assert_eq!(pts, [34.35, 25.0, 16.67, 15.0]);
    assert_eq!((s.likelihood.value, s.likelihood.rank), (91.02, 5));
    assert_eq!(
        s.likelihood.factors[1].reason,
        "open finding f1 for CVE-2023-1111 on internet-facing asset web1"
    );
    // Impact: in reach web1 (finding) and db1 (crown jewel)
    //   criticality 5/5 = 1.0 × 60 = 60; data payment on db1 1.0 × 40 = 40
    //   total 100 → very high (5); risk 5 × 5 = 25 critical
    assert_eq!((s.impact.value, s.impact.rank), (100.0, 5));
    assert_eq!((s.risk, s.risk_level.as_str()), (25, "critical"));
    // Recommendations by likelihood reduction:
    //   fix CVE-2023-1111 on web1: exposure 25 → 0                 → 25
    //   enable r2 for T1566.001: gaps (0+1+0)/3 × 25 = 8.33 → 82.68 → 8.34
    //   write a detection for T1190: same                          → 8.34
    //   apply M1050 (mitigates T1190, gap counts half):
    //     gaps (0 + 0.5 + 1)/3 × 25 = 12.5 → 86.85                  → 4.17
    let recs: Vec<(&str, f64)> = s
        .recommendations
        .iter()
        .map(|r| (r.kind.as_str(), r.reduction))
        .collect();
    assert_eq!(
        recs,
        [
            ("fix-finding", 25.0),
            ("enable-rules", 8.34),
            ("write-detection", 8.34),
            ("apply-mitigation", 4.17)
        ]
    );
    assert_eq!(s.recommendations[1].targets, ["r2"]);
    assert_eq!(s.recommendations[3].targets, ["M1050"]);
    // With the finding fixed the likelihood drops to 66.02 (high, 4).
    let s2 = Inputs {
        findings: &[],
        ..inputs
    }
    .assess_scenario(&spec);
    assert_eq!((s2.likelihood.value, s2.likelihood.rank), (66.02, 4));
}

#[test]
fn actors_rank_with_explanations() {
    let f = fixture();
    let inputs = Inputs {
        profile: &f.profile,
        geo: &f.geo,
        actors: &f.actors,
        attack: &f.attack,
        coverage: &f.coverage,
        observations: &f.obs,
        assets: &[],
        findings: &[],
        kev_ransomware: &BTreeSet::new(),
        today: f.today,
    };
    let ranked = inputs.assess_actors();
    let order: Vec<(&str, f64)> = ranked
        .iter()
        .map(|a| (a.actor.name.as_str(), a.relevance.value))
        .collect();
    assert_eq!(
        order,
        [
            ("Alpha Bear", 98.15),
            ("Gamma Kitten", 57.5),
            ("Beta Panda", 17.5)
        ]
    );
    let a = &ranked[0];
    assert_eq!((a.covered, a.partial, a.gaps), (1, 0, 2));
    assert!(
        a.explanation
            .starts_with("sector +35 (targets Finance (financial)); region +30 (targets Germany)"),
        "{}",
        a.explanation
    );
    // Beta Panda: T1566 partially covered by r3 (low × experimental = 0.5 × 0.6 = 0.3).
    let b = &ranked[2];
    assert_eq!((b.covered, b.partial, b.gaps), (0, 1, 0));
    assert_eq!(b.techniques[0].score, 0.3);
}
