//! Real SBOMs (`$VIGIL_TESTDATA/sbom`): every CycloneDX and SPDX 2.x document
//! parses, and matching them against the real OSV records yields findings.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::collections::BTreeMap;

use vigil_vuln::osv::OsvDatabase;
use vigil_vuln::sbom;

/// SBOM files this crate reads: CycloneDX JSON/XML and SPDX 2.x.
fn sbom_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    common::walk(&root.join("sbom"))
        .into_iter()
        .filter(|p| {
            let s = p.to_string_lossy();
            let cdx = s.contains("/cyclonedx/")
                && (s.ends_with(".json") || s.ends_with(".xml") || s.ends_with(".json.gz"));
            let spdx2 = s.contains("/spdx2.")
                || s.contains("SPDXVersion2.3")
                || s.ends_with("ACME-v2.3.spdx.json");
            let spdx = spdx2 && (s.ends_with(".json") || s.ends_with(".spdx"));
            cdx || spdx
        })
        .collect()
}

#[test]
fn sboms_parse_and_match() {
    let Some(root) = common::testdata() else {
        return;
    };
    let files = sbom_files(&root);
    let mut failures = Vec::new();
    let mut parsed = Vec::new();
    let mut by_format: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for p in &files {
        let bytes = std::fs::read(p).unwrap();
        match sbom::parse_bytes(&bytes) {
            Ok(s) => {
                let e = by_format.entry(format!("{:?}", s.format)).or_default();
                e.0 += 1;
                e.1 += s.components.len();
                parsed.push((p.clone(), s));
            }
            Err(e) => failures.push(format!("{}: {e}", p.display())),
        }
    }
    println!(
        "sbom: {} files, {} parsed, {} failed; per format (files, components): {by_format:?}",
        files.len(),
        parsed.len(),
        failures.len()
    );
    for f in &failures {
        println!("failure: {f}");
    }
    let (records, _) = common::load_osv(&root);
    let db = OsvDatabase::new(records);
    let mut total = 0;
    for (p, s) in &parsed {
        let findings = db.match_components(&s.components);
        if !findings.is_empty() {
            println!(
                "{}: {} components, {} findings",
                p.display(),
                s.components.len(),
                findings.len()
            );
        }
        total += findings.len();
    }
    println!("findings from real SBOMs: {total}");
    assert!(failures.is_empty());
    assert!(parsed.len() >= 20);
}
