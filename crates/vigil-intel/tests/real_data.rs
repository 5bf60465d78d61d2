//! Imports the real data under `$VIGIL_TESTDATA` (`stix`, `misp`, `attack`):
//! counts per object type, every bad document or object reported (the
//! invalid ESET event among them), and a second import changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use vigil_intel::attack::{AttackKind, AttackKnowledge};
use vigil_intel::stix::{self, ImportOptions};
use vigil_intel::{
    ImportReport, IndicatorSet, KnowledgeGraph, MatchIndex, Warninglist, Warninglists, misp,
};

fn is_json(p: &Path) -> bool {
    let n = p.to_string_lossy();
    n.ends_with(".json") || n.ends_with(".json.gz")
}

/// Imports every STIX bundle and MISP event under `dir` into `graph` and
/// `set`; returns the report and the documents that were rejected whole.
fn import_dir(
    dir: &Path,
    graph: &mut KnowledgeGraph,
    set: &mut IndicatorSet,
) -> (ImportReport, Vec<String>, (usize, usize)) {
    let opts = ImportOptions::default();
    let mut report = ImportReport::default();
    let mut rejected = Vec::new();
    let mut changed = (0, 0);
    for f in common::files(dir) {
        if !is_json(&f)
            || f.to_string_lossy().contains("/warninglists/")
            || f.to_string_lossy().contains("/galaxy/")
        {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        let name = f.strip_prefix(dir).unwrap().to_string_lossy().to_string();
        match misp::parse_events(&bytes, &name, &opts) {
            Ok(imp) => {
                let st = set.merge(imp.indicators);
                changed.1 += st.added + st.updated;
                report.absorb(imp.report);
                continue;
            }
            Err(vigil_intel::Error::Json { line, column, .. }) => {
                rejected.push(format!("{name}: invalid JSON at {line}:{column}"));
                continue;
            }
            Err(_) => {}
        }
        match stix::parse_bundle(&bytes, &name, &opts) {
            Ok(imp) => {
                let g = graph.merge(imp.objects);
                let st = set.merge(imp.indicators);
                changed.0 += g.added + g.updated;
                changed.1 += st.added + st.updated;
                report.absorb(imp.report);
            }
            Err(e) => rejected.push(format!("{name}: {e}")),
        }
    }
    (report, rejected, changed)
}

#[test]
fn stix_and_misp_import_twice() {
    let Some(data) = common::testdata() else {
        return;
    };
    let mut graph = KnowledgeGraph::new();
    let mut set = IndicatorSet::new();
    for sub in ["stix", "misp"] {
        let (r, rejected, changed) = import_dir(&data.join(sub), &mut graph, &mut set);
        println!("== {sub}: objects per type {:?}", r.objects);
        println!("   indicators per type {:?}", r.indicators);
        println!(
            "   patterns matchable {} / not matchable {}; skipped {}; item errors {}; documents rejected {}",
            r.patterns_matchable,
            r.patterns_not_matchable,
            r.skipped,
            r.errors.len(),
            rejected.len()
        );
        for e in r.errors.iter().take(5) {
            println!("   error: {} {}: {}", e.source, e.id, e.reason);
        }
        for d in rejected
            .iter()
            .filter(|d| !d.contains("not a bundle"))
            .take(10)
        {
            println!("   rejected: {d}");
        }
        assert!(changed.0 + changed.1 > 0);
        if sub == "stix" {
            assert!(r.patterns_matchable > 2000, "{}", r.patterns_matchable);
            assert!(r.objects.get("indicator").copied().unwrap_or(0) > 3000);
            assert!(r.objects.get("relationship").copied().unwrap_or(0) > 1000);
        } else {
            assert!(
                rejected
                    .iter()
                    .any(|d| d.contains("malicious_pypi_packages") && d.contains("invalid JSON")),
                "{rejected:?}"
            );
            assert!(r.objects.get("misp-event").copied().unwrap_or(0) >= 30);
            assert!(r.indicators.values().sum::<usize>() > 1000);
        }
        // the same data again changes nothing
        let (_, _, again) = import_dir(&data.join(sub), &mut graph, &mut set);
        assert_eq!(
            again,
            (0, 0),
            "{sub}: second import changed objects/indicators"
        );
    }
    println!(
        "== total: {} graph objects, {} indicators {:?}",
        graph.len(),
        set.len(),
        set.counts()
    );

    // warninglists suppress known-benign values
    let mut wl = Warninglists::new();
    for f in common::files(&data.join("misp/warninglists")) {
        let n = f.to_string_lossy();
        if n.ends_with("list.json") || n.ends_with("list.json.gz") {
            match Warninglist::parse(&std::fs::read(&f).unwrap()) {
                Ok(l) => wl.add(l),
                Err(e) => panic!("{n}: {e}"),
            }
        }
    }
    assert!(wl.lists().len() > 100);
    let suppressed = wl.suppress(&mut set);
    let mut by_list: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &suppressed {
        *by_list.entry(s.list.as_str()).or_default() += 1;
    }
    println!(
        "== warninglists: {} lists, {} indicators suppressed {by_list:?}",
        wl.lists().len(),
        suppressed.len()
    );
    let ix = MatchIndex::build(&set);
    // http://x/p and https://x/p share one key (the scheme takes no part)
    assert!(
        ix.len() <= set.len() && ix.len() * 100 >= set.len() * 99,
        "{} {}",
        ix.len(),
        set.len()
    );
}

#[test]
fn attack_import_twice() {
    let Some(data) = common::testdata() else {
        return;
    };
    let dir = data.join("attack");
    let mut k = AttackKnowledge::new();
    let files: Vec<_> = common::files(&dir)
        .into_iter()
        .filter(|f| f.to_string_lossy().ends_with(".json.gz"))
        .collect();
    assert!(files.len() >= 3);
    for f in &files {
        let r = k
            .load(&std::fs::read(f).unwrap(), &f.to_string_lossy())
            .unwrap();
        println!(
            "{}: {:?}, errors {}",
            f.file_name().unwrap().to_string_lossy(),
            r.objects,
            r.errors.len()
        );
        assert!(
            r.errors.is_empty(),
            "{:?}",
            &r.errors[..r.errors.len().min(3)]
        );
    }
    let counts = k.counts();
    println!("attack (active, revoked/deprecated): {counts:?}");
    assert!(counts[&AttackKind::Technique].0 > 600);
    assert!(counts[&AttackKind::Group].0 > 100);
    let t = k.technique("T1059.001").unwrap();
    println!(
        "T1059.001 {}: tactics {:?}, {} groups, {} software, {} mitigations, parent {:?}",
        t.technique.name,
        t.tactics
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>(),
        t.groups.len(),
        t.software.len(),
        t.mitigations.len(),
        t.parent.map(|p| p.id.as_str())
    );
    assert_eq!(t.parent.map(|p| p.id.as_str()), Some("T1059"));
    assert!(!t.groups.is_empty() && !t.mitigations.is_empty() && !t.tactics.is_empty());
    assert!(k.group_by_name("Fancy Bear").is_some());
    assert!(k.technique("T0800").is_some(), "ICS technique");
    let graph_len = k.graph().len();
    for f in &files {
        k.load(&std::fs::read(f).unwrap(), "again").unwrap();
    }
    assert_eq!(k.counts(), counts);
    assert_eq!(k.graph().len(), graph_len);
}
