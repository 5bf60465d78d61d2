//! A full register recompute on real data (`$VIGIL_TESTDATA`; skipped
//! without it): enterprise ATT&CK, the MISP threat-actor and intrusion-set
//! galaxies, 3,000 rules (SigmaHQ's rules, duplicated with new ids) and
//! 10,000 synthetic open findings on 1,000 assets. `full` = merge actors,
//! index rules, assess every actor, the coverage matrix, and the scenario
//! of each of the 50 most relevant actors (with recommendations). ATT&CK
//! parsing (`load`) is measured apart: the server reads it once.
//!
//! ```text
//! VIGIL_TESTDATA=/path/to/data cargo bench -p vigil-threats --bench recompute
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use vigil_intel::attack::AttackKnowledge;
use vigil_threats::actors::{self, Observations};
use vigil_threats::coverage::{self, CoverageIndex, RuleInfo};
use vigil_threats::galaxy;
use vigil_threats::region::Geo;
use vigil_threats::register::{Asset, Finding, Inputs, ScenarioSpec};
use vigil_threats::{Profile, dates};

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rule_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml") {
            out.push(p);
        }
    }
}

/// `(id, title, level, status, tags)` by a line scan.
fn scan(text: &str) -> (String, String, Option<String>, Option<String>, Vec<String>) {
    let (mut id, mut title, mut level, mut status, mut tags) =
        (String::new(), String::new(), None, None, Vec::new());
    let mut in_tags = false;
    for line in text.lines() {
        let v = |k: &str| line.strip_prefix(k).map(|v| v.trim().to_string());
        if let Some(x) = v("id:") {
            id = x;
        } else if let Some(x) = v("title:") {
            title = x;
        } else if let Some(x) = v("level:") {
            level = Some(x);
        } else if let Some(x) = v("status:") {
            status = Some(x);
        }
        if line.starts_with("tags:") {
            in_tags = true;
            continue;
        }
        if in_tags {
            match line.trim_start().strip_prefix("- ") {
                Some(t) if line.starts_with(' ') => tags.push(t.trim().to_string()),
                _ => in_tags = false,
            }
        }
    }
    (id, title, level, status, tags)
}

fn bench(c: &mut Criterion) {
    let Some(td) = std::env::var_os("VIGIL_TESTDATA").map(PathBuf::from) else {
        println!("skipped: VIGIL_TESTDATA not set");
        return;
    };
    let attack_bytes = std::fs::read(td.join("attack/enterprise-attack.json.gz")).unwrap();
    let mut attack = AttackKnowledge::new();
    attack.load(&attack_bytes, "bench").unwrap();
    let mut clusters = Vec::new();
    for f in [
        "threat-actor.json",
        "mitre-intrusion-set.json",
        "country.json",
    ] {
        let b = std::fs::read(td.join("misp/galaxy/clusters").join(f)).unwrap();
        clusters.extend(galaxy::parse_clusters(&b, f).unwrap().0);
    }
    let mut geo = Geo::builtin();
    geo.extend_from_galaxy(&clusters);
    let mut files = Vec::new();
    rule_files(&td.join("sigma/rules"), &mut files);
    let mut rules = Vec::new();
    for round in 0..2 {
        for f in &files {
            if rules.len() == 3000 {
                break;
            }
            let (id, title, level, status, tags) = scan(&std::fs::read_to_string(f).unwrap());
            rules.push(RuleInfo::new(
                &format!("{id}-{round}"),
                &title,
                level.as_deref(),
                status.as_deref(),
                rules.len() % 10 != 0,
                &tags,
            ));
        }
    }
    assert_eq!(rules.len(), 3000);
    let profile = Profile {
        sectors: vec!["financial".into()],
        regions: vec!["europe".into()],
        crown_jewels: vec!["asset-0".into()],
        ..Profile::default()
    };
    let exposures = ["internet-facing", "internal", "isolated"];
    let assets: Vec<Asset> = (0..1000)
        .map(|i| Asset {
            id: format!("a{i}"),
            name: format!("asset-{i}"),
            criticality: u8::try_from(i % 5 + 1).unwrap(),
            exposure: exposures[i % 3].to_string(),
            data_classes: if i % 7 == 0 {
                vec!["payment".into()]
            } else {
                vec![]
            },
        })
        .collect();
    // CVEs the actors exploit, and made-up ones
    let merged = actors::build(attack.graph(), &clusters);
    let real: Vec<String> = merged
        .iter()
        .flat_map(|a| a.cves.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let findings: Vec<Finding> = (0..10_000)
        .map(|i| Finding {
            id: format!("f{i}"),
            asset_id: format!("a{}", i % 1000),
            ids: vec![if i % 10 == 0 && !real.is_empty() {
                real[i % real.len()].clone()
            } else {
                format!("CVE-2024-{:05}", i)
            }],
        })
        .collect();
    let mut obs = Observations::default();
    for t in ["T1059.001", "T1566.001", "T1078", "T1021.001"] {
        obs.technique_alerts.insert(t.into(), 12);
    }
    let kev = BTreeSet::new();
    let today = dates::days_from_civil(2026, 11, 27);
    println!(
        "actors {}, rules {}, findings {}, actor CVEs {}",
        merged.len(),
        rules.len(),
        findings.len(),
        real.len()
    );

    let mut g = c.benchmark_group("register");
    g.sample_size(10);
    g.bench_function("load_attack", |b| {
        b.iter(|| {
            let mut k = AttackKnowledge::new();
            k.load(&attack_bytes, "bench").unwrap();
            k
        })
    });
    g.bench_function("full", |b| {
        b.iter(|| {
            let actors = actors::build(attack.graph(), &clusters);
            let index = CoverageIndex::new(rules.clone());
            let inputs = Inputs {
                profile: &profile,
                geo: &geo,
                actors: &actors,
                attack: &attack,
                coverage: &index,
                observations: &obs,
                assets: &assets,
                findings: &findings,
                kev_ransomware: &kev,
                today,
            };
            let ranked = inputs.assess_actors();
            let (m, _) =
                coverage::matrix(&attack, "enterprise-attack", &index, &obs.technique_alerts);
            let scen: Vec<_> = ranked
                .iter()
                .take(50)
                .map(|a| {
                    inputs.assess_scenario(&ScenarioSpec {
                        id: a.actor.key.clone(),
                        title: a.actor.name.clone(),
                        actor: Some(a.actor.key.clone()),
                        ..ScenarioSpec::default()
                    })
                })
                .collect();
            (ranked.len(), m.len(), scen.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
