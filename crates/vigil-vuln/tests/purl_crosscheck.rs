//! Vigil's purl parser against the `packageurl` crate on every purl in the
//! real SBOMs (`$VIGIL_TESTDATA/sbom`): both must read the same type,
//! namespace, name, version, qualifiers and subpath — except that the crate
//! lower-cases `golang` namespaces and names, which Vigil keeps: Go module
//! paths are case-sensitive (`github.com/BurntSushi/toml`), and OSV's Go
//! records name them with their case, so lower-casing would lose matches.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::collections::BTreeMap;

use vigil_vuln::Purl;

fn purls_in(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if (k == "purl" || k == "referenceLocator")
                    && let Some(s) = x.as_str()
                    && s.starts_with("pkg:")
                {
                    out.push(s.to_owned());
                }
                purls_in(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| purls_in(x, out)),
        _ => {}
    }
}

#[test]
fn same_reading_as_packageurl_crate() {
    let Some(root) = common::testdata() else {
        return;
    };
    let mut purls = Vec::new();
    for p in common::walk(&root.join("sbom")) {
        if p.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            purls_in(&v, &mut purls);
        }
    }
    purls.sort();
    purls.dedup();
    let mut differ = Vec::new();
    let mut both_ok = 0;
    for s in &purls {
        let ours = s.parse::<Purl>();
        let theirs = s.parse::<packageurl::PackageUrl<'static>>();
        match (ours, theirs) {
            (Ok(a), Ok(b)) => {
                both_ok += 1;
                let bq: BTreeMap<String, String> = b
                    .qualifiers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let fold = |x: Option<&str>| {
                    x.map(|x| {
                        if a.ty() == "golang" {
                            x.to_lowercase()
                        } else {
                            x.to_owned()
                        }
                    })
                };
                let same = a.ty() == b.ty()
                    && fold(a.namespace()) == fold(b.namespace())
                    && fold(Some(a.name())) == fold(Some(b.name()))
                    && a.version() == b.version()
                    && a.qualifiers() == &bq
                    && a.subpath() == b.subpath();
                if !same {
                    differ.push(format!("{s}: ours {a} / theirs {b}"));
                }
            }
            (a, b) => differ.push(format!(
                "{s}: ours ok={} theirs ok={}",
                a.is_ok(),
                b.is_ok()
            )),
        }
    }
    println!(
        "purls: {} distinct, {both_ok} parsed by both, {} differ",
        purls.len(),
        differ.len()
    );
    for d in &differ {
        println!("differ: {d}");
    }
    assert!(differ.is_empty(), "{} purls read differently", differ.len());
    assert!(both_ok > 1000);
}
